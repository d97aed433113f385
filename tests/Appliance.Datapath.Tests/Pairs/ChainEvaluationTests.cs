using Appliance.Config;
using Appliance.Datapath.Pairs;
using Xunit;

namespace Appliance.Datapath.Tests.Pairs;

public sealed class ChainEvaluationTests
{
    /// <summary>Each "program" is the r0 it returns; the runner records which ones ran.</summary>
    private struct FixedRunner : IProgramRunner
    {
        public List<int> Ran;
        public ulong[] Returns;
        public ulong Run(int index)
        {
            Ran.Add(index);
            return Returns[index];
        }
    }

    private static (ChainResult, List<int>) Eval(SidePolicy policy, params long[] returns)
    {
        var runner = new FixedRunner { Ran = [], Returns = returns.Select(r => (ulong)r).ToArray() };
        return (ChainEvaluation.Evaluate(returns.Length, policy, ref runner), runner.Ran);
    }

    [Theory]
    [InlineData(SidePolicy.Pass, NetkitVerdict.Pass)]
    [InlineData(SidePolicy.Drop, NetkitVerdict.Drop)]
    public void PolicyDecidesOnlyWithoutPrograms(SidePolicy policy, NetkitVerdict expected)
    {
        var (r, ran) = Eval(policy);
        Assert.Equal(expected, r.Verdict);
        Assert.True(r.ByPolicy);
        Assert.Empty(ran);
    }

    [Fact]
    public void AllNextMeansPassEvenWithABlackholePolicy()
    {
        var (r, ran) = Eval(SidePolicy.Drop, -1, -1, 0xffffffff);
        Assert.Equal(NetkitVerdict.Pass, r.Verdict);
        Assert.False(r.ByPolicy);
        Assert.Equal([0, 1, 2], ran);
    }

    [Fact]
    public void FirstNonNextWinsAndLaterProgramsDoNotRun()
    {
        var (r, ran) = Eval(SidePolicy.Pass, -1, 2, 0);
        Assert.Equal(NetkitVerdict.Drop, r.Verdict);
        Assert.Equal(1, r.DecidingProgram);
        Assert.Equal([0, 1], ran);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(3L)]
    [InlineData(6L)]
    [InlineData(8L)]
    [InlineData(-2L)]
    [InlineData(0x1_0000_0000L)] // r0 is read as (int)(uint)r0: this is 0 = PASS, not unknown
    public void UnknownVerdictsDrop(long r0)
    {
        var (r, _) = Eval(SidePolicy.Pass, r0);
        if (r0 == 0x1_0000_0000L)
        {
            Assert.Equal(NetkitVerdict.Pass, r.Verdict);
            return;
        }
        Assert.Equal(NetkitVerdict.Drop, r.Verdict);
        Assert.True(r.UnknownVerdict);
    }

    [Fact]
    public void RedirectIsAVerdict()
    {
        var (r, _) = Eval(SidePolicy.Drop, 7);
        Assert.Equal(NetkitVerdict.Redirect, r.Verdict);
        Assert.False(r.UnknownVerdict);
    }
}
