using Appliance.Config;

namespace Appliance.Datapath.Pairs;

/// <summary>Runs one program of a chain on the current frame and returns its raw r0.</summary>
public interface IProgramRunner<TProgram>
{
    ulong Run(TProgram program, int index);
}

/// <summary>The outcome of a side's chain for one frame.</summary>
public readonly record struct ChainResult(NetkitVerdict Verdict, int DecidingProgram, bool UnknownVerdict, bool ByPolicy);

/// <summary>netkit_xmit's decision: with no program the side's policy decides; otherwise the first
/// program that does not return NEXT decides, NEXT after the last program means PASS, unknown values drop.</summary>
public static class ChainEvaluation
{
    public static ChainResult Evaluate<TProgram, TRunner>(TProgram[] programs, SidePolicy policy, ref TRunner runner)
        where TRunner : struct, IProgramRunner<TProgram>
    {
        if (programs.Length == 0)
            return new ChainResult(policy == SidePolicy.Pass ? NetkitVerdict.Pass : NetkitVerdict.Drop, -1, false, true);
        for (int i = 0; i < programs.Length; i++)
        {
            var verdict = NetkitVerdicts.Decode(runner.Run(programs[i], i), out bool unknown);
            if (verdict != NetkitVerdict.Next) return new ChainResult(verdict, i, unknown, false);
        }
        return new ChainResult(NetkitVerdict.Pass, programs.Length - 1, false, false);
    }
}
