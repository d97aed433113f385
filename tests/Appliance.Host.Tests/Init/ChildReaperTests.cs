using Appliance.Datapath.Diagnostics;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Appliance.Host.Init;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Init;

/// <summary>The reaper against real processes. The test process becomes a child subreaper (what PID 1 is
/// implicitly), so an orphaned grandchild is re-parented to it — a child .NET's Process class does not know
/// about and will never wait for. Only the reaper can collect it.</summary>
[Collection(KernelCollection.Name)]
public sealed class ChildReaperTests
{
    [Fact]
    public void An_orphan_that_exits_3_is_reaped_with_its_exit_code()
    {
        var reaped = new BlockingCollection<ReapedChild>();
        ChildReaper.BecomeSubreaper();
        try
        {
            using var reaper = new ChildReaper(new Logger(TextWriter.Null), grace: TimeSpan.FromMilliseconds(200));
            reaper.Reaped += reaped.Add;
            reaper.Start();

            // The outer shell prints the pid of its background child and exits at once; the child is then
            // ours (subreaper) and exits 3 a little later.
            var pid = int.Parse(Shell.Check("sh", "-c", "sh -c 'sleep 0.3; exit 3' >/dev/null 2>&1 & echo $!").Trim());

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            ReapedChild? ours = null;
            while (ours is null && DateTime.UtcNow < deadline)
                if (reaped.TryTake(out var child, TimeSpan.FromSeconds(1)) && child.Pid == pid) ours = child;

            Assert.NotNull(ours);
            Assert.Equal(3, ours.Value.ExitCode);
            Assert.Null(ours.Value.Signal);
            Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} is still in /proc (a zombie was left)");
        }
        finally
        {
            ChildReaper.BecomeSubreaper(false);
        }
    }

    [Fact]
    public void Children_started_through_Process_keep_their_exit_code()
    {
        ChildReaper.BecomeSubreaper();
        try
        {
            using var reaper = new ChildReaper(new Logger(TextWriter.Null));
            reaper.Start();
            for (var i = 0; i < 5; i++)
                Assert.Equal(7, Shell.Run("sh", "-c", "exit 7").ExitCode);
        }
        finally
        {
            ChildReaper.BecomeSubreaper(false);
        }
    }
}
