using Appliance.Datapath.Forwarding;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>How a program's runs are counted: each run and its bytes, and its ending by the netkit verdict it returned
/// (NEXT −1, PASS 0, DROP 2, REDIRECT 7), any other value as unknown, a fault as a fault whatever r0 held; per worker,
/// summed over workers.</summary>
public sealed class ProgramCountersTests
{
    [Fact]
    public void Each_run_is_counted_by_its_verdict_and_any_other_value_is_unknown()
    {
        var c = new ProgramCounters();
        int[] verdicts = [-1, 0, 2, 7, 1, 3, 4, 5, 6, 8, -2, int.MinValue, int.MaxValue];
        foreach (int v in verdicts) c.Ran(0, 100, v, faulted: false);
        c.Ran(1, 60, 0, faulted: true);
        c.Ran(1, 60, 7, faulted: true);

        Assert.Equal(verdicts.Length + 2, c.Runs);
        Assert.Equal(100L * verdicts.Length + 120, c.Bytes);
        Assert.Equal(1, c.Next);
        Assert.Equal(1, c.Pass);
        Assert.Equal(1, c.Drop);
        Assert.Equal(1, c.Redirect);
        Assert.Equal(verdicts.Length - 4, c.Unknown);
        Assert.Equal(2, c.Faults);
    }
}
