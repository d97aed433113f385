using System.Runtime.InteropServices;
using Appliance.Interop;
using Xunit;

namespace Appliance.Datapath.Tests.Interop;

/// <summary>poll(2) is our one import of it because Tmds.LibC 0.5.0's loses errno; these show both, and the
/// wake event the workers sleep on.</summary>
public sealed unsafe class PollNativeTests
{
    [Fact]
    public void Our_poll_keeps_errno()
    {
        Marshal.SetLastPInvokeError(0);
        Assert.Equal(-1, PollNative.Poll((Tmds.Linux.pollfd*)8, 1, 0)); // an unmapped address
        Assert.Equal(Errno.EFAULT, Marshal.GetLastPInvokeError());
    }

    [Fact]
    public void Tmds_LibC_poll_loses_errno_which_is_why_poll_stays_ours()
    {
        // When a Tmds.LibC release imports poll with SetLastError, this fails: move poll to it then.
        Marshal.SetLastPInvokeError(0);
        Assert.Equal(-1, Tmds.Linux.LibC.poll((Tmds.Linux.pollfd*)8, 1, 0));
        Assert.Equal(0, Marshal.GetLastPInvokeError());
    }

    [Fact]
    public void A_signalled_wake_event_is_readable_until_drained()
    {
        using var wake = new WakeEvent("test");
        Span<Tmds.Linux.pollfd> fds = [wake.PollEntry];
        Assert.Equal(0, PollNative.Wait(fds, 0));
        Assert.False(PollNative.HasInput(fds[0]));

        wake.Signal();
        wake.Signal();
        Assert.Equal(1, PollNative.Wait(fds, 0));
        Assert.True(PollNative.HasInput(fds[0]));
        Assert.Equal(wake.Fd, fds[0].fd);

        wake.Drain(); // one read takes both signals
        Assert.Equal(0, PollNative.Wait(fds, 0));
    }

    [Fact]
    public void Poll_failures_throw_with_the_errno()
    {
        // More descriptors than RLIMIT_NOFILE can ever allow (fs.nr_open < int.MaxValue): EINVAL before the kernel
        // reads a single entry, so the span's memory is never touched.
        var e = Assert.Throws<PlatformException>(() => PollNative.Wait(new Span<Tmds.Linux.pollfd>((void*)8, int.MaxValue), 0));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("poll", e.Message);
    }
}
