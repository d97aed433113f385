using Appliance.Host.Tests.Run;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Init;

/// <summary>An idle init sleeps: with no child exiting and no LED that blinks, the reaper and the LED thread never
/// wake (they polled: the reaper every second, the LEDs 4 times a second; on the emulated board each wake-up costs
/// about a millisecond of a core). The published binary's `init --skip-setup` as an ordinary process (a child
/// subreaper) with no usable config, which stays up and waits; each thread's wake-ups are its voluntary context
/// switches in /proc (a thread blocked in a wait has none, however loaded the machine is).</summary>
public sealed class IdleInitTests
{
    [Fact]
    public void TheReaperAndTheLedThreadSleepUntilSomethingHappens()
    {
        var dir = Directory.CreateTempSubdirectory("mapp-idle-init-").FullName;
        try
        {
            using var init = ApplianceProcess.Start(
                [RepoPaths.Binary("linux-x64"), "init", "--skip-setup", "--config", Path.Combine(dir, "config.json"), "--board-env", Path.Combine(dir, "board.env")],
                Path.Combine(dir, "control.sock"), new Dictionary<string, string>());
            Assert.True(init.StdErrShows("the datapath stays down"), init.Output);
            // The supervisor logs this after the body's last state change (its LEDs, its start) and before it waits;
            // then the LED thread's wake-up for them may still be pending on a loaded machine: it has been taken once
            // both threads are asleep (not runnable) with no wake-up over 100 ms. A poller settles too, between two
            // polls, and then wakes in the 3 s below.
            Assert.True(init.StdErrShows("appliance started"), init.Output);
            var threads = new[] { "reaper", "leds" }.ToDictionary(name => name, name => Assert.Single(ThreadWakeups.ThreadsNamed(init.Pid, name)));
            Assert.True(ThreadWakeups.Settle(init.Pid, [.. threads.Values], out _), $"the reaper and LED threads never settled\n{init.Output}");
            var before = threads.ToDictionary(t => t.Key, t => ThreadWakeups.Of(init.Pid, t.Value));
            Thread.Sleep(3000);
            foreach (var (name, tid) in threads)
            {
                long woke = ThreadWakeups.Of(init.Pid, tid) - before[name];
                Assert.True(woke == 0, $"the {name} thread woke {woke} times in 3 s with nothing to do\n{init.Output}");
            }
            Assert.Equal(0, init.Signal(15));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
