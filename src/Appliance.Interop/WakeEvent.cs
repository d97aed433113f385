namespace Appliance.Interop;

/// <summary>An eventfd a thread sleeping in poll() watches so another thread can wake it at once (stop, a change to
/// take between two batches). <see cref="Signal"/> from any thread; the sleeper calls <see cref="Drain"/> after it woke.</summary>
public sealed unsafe class WakeEvent : IDisposable
{
    public int Fd { get; private set; }

    /// <param name="owner">Names the sleeper in the error when the kernel has no eventfd left.</param>
    public WakeEvent(string owner)
    {
        Fd = SocketCalls.EventFd(0, Tmds.Linux.LibC.EFD_CLOEXEC | Tmds.Linux.LibC.EFD_NONBLOCK);
        if (Fd < 0) throw PlatformException.FromLastError("eventfd", owner);
    }

    /// <summary>Makes the eventfd readable: the sleeper's poll() returns.</summary>
    public void Signal()
    {
        ulong one = 1;
        if (Fd >= 0) SocketCalls.Write(Fd, &one, sizeof(ulong));
    }

    /// <summary>Resets it (non-blocking read), so the next poll() sleeps again.</summary>
    public void Drain()
    {
        ulong value;
        SocketCalls.Read(Fd, &value, sizeof(ulong));
    }

    /// <summary>A pollfd entry that watches it.</summary>
    public Tmds.Linux.pollfd PollEntry => PollNative.Input(Fd);

    public void Dispose()
    {
        if (Fd < 0) return;
        LibC.Close(Fd);
        Fd = -1;
    }
}
