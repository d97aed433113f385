using System.Runtime.ExceptionServices;
using Appliance.Interop;

namespace Appliance.Bpf.Oracle;

/// <summary>Runs kernel comparisons on a thread pinned to one CPU. BPF_PROG_TEST_RUN runs a program on the caller's
/// CPU, so a program that writes its own CPU's slot of a per-CPU map (or reads bpf_get_smp_processor_id) sees
/// its earlier runs' values only while the caller stays on one CPU; a busy machine migrates an unpinned thread
/// between runs and the kernel's per-CPU values then spread over CPUs where the engine's do not.</summary>
public static class OneCpu
{
    /// <summary>Runs <paramref name="action"/> on a new thread pinned to the CPU the caller is on; rethrows its
    /// exception as it was thrown (assertions keep their messages).</summary>
    public static void Run(Action action) => Run(_ => action());

    /// <summary>As <see cref="Run(Action)"/>, handing <paramref name="action"/> the CPU it runs on (what
    /// bpf_get_smp_processor_id gives the kernel's test runs, and the CPU slot an engine's VM should use).</summary>
    public static void Run(Action<int> action)
    {
        int cpu = Thread.GetCurrentProcessorId();
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                ThreadAffinity.PinCurrentThread(cpu);
                action(cpu);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }
}
