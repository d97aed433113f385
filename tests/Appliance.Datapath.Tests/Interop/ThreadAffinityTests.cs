using Appliance.Interop;
using Xunit;

namespace Appliance.Datapath.Tests.Interop;

/// <summary>sched_setaffinity through Tmds.LibC's cpu_set_t: the pinned thread's mask, read back from the kernel,
/// holds exactly the CPU asked for.</summary>
public sealed unsafe class ThreadAffinityTests
{
    [Fact]
    public void A_pinned_thread_runs_on_exactly_that_cpu()
    {
        int[] allowed = AllowedCpus();
        int cpu = allowed[^1];
        int[]? after = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                ThreadAffinity.PinCurrentThread(cpu);
                after = AllowedCpus();
            }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
        Assert.Equal([cpu], after!);
        Assert.Equal(allowed, AllowedCpus()); // the test's own thread is untouched
    }

    [Fact]
    public void Out_of_range_cpus_are_refused_before_the_kernel()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadAffinity.PinCurrentThread(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadAffinity.PinCurrentThread(Tmds.Linux.LibC.CPU_SETSIZE));
    }

    private static int[] AllowedCpus()
    {
        Tmds.Linux.cpu_set_t set;
        Assert.Equal(0, Tmds.Linux.LibC.sched_getaffinity(0, (Tmds.Linux.size_t)(ulong)sizeof(Tmds.Linux.cpu_set_t), &set));
        var cpus = new List<int>();
        for (int c = 0; c < Tmds.Linux.LibC.CPU_SETSIZE; c++)
            if (Tmds.Linux.LibC.CPU_ISSET(c, &set)) cpus.Add(c);
        return [.. cpus];
    }
}
