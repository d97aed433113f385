using System.Runtime.CompilerServices;
using Appliance.Config;

namespace Appliance.Datapath.Pairs;

/// <summary>Runs a chain's programs on the current frame: program <c>index</c>'s raw r0.</summary>
public interface IProgramRunner
{
    ulong Run(int index);
}

/// <summary>The outcome of a side's chain for one frame.</summary>
public readonly record struct ChainResult(NetkitVerdict Verdict, int DecidingProgram, bool UnknownVerdict, bool ByPolicy);

/// <summary>netkit_xmit's decision: with no program the side's policy decides; otherwise the first
/// program that does not return NEXT decides, NEXT after the last program means PASS, unknown values drop.</summary>
public static class ChainEvaluation
{
    /// <param name="programs">The chain's length.</param>
    /// <param name="runner">Runs its programs by index (a struct: the call is specialised, not dispatched).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ChainResult Evaluate<TRunner>(int programs, SidePolicy policy, ref TRunner runner)
        where TRunner : struct, IProgramRunner
    {
        if (programs == 0)
            return new ChainResult(policy == SidePolicy.Pass ? NetkitVerdict.Pass : NetkitVerdict.Drop, -1, false, true);
        for (int i = 0; i < programs; i++)
        {
            var verdict = NetkitVerdicts.Decode(runner.Run(i), out bool unknown);
            if (verdict != NetkitVerdict.Next) return new ChainResult(verdict, i, unknown, false);
        }
        return new ChainResult(NetkitVerdict.Pass, programs - 1, false, false);
    }
}
