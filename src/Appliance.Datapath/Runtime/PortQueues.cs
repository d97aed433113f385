using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;
using Appliance.Interop;
using Channels = Appliance.Interop.IoctlEthtool.Channels;

namespace Appliance.Datapath.Runtime;

/// <summary>A claimed port's RX queues widened to one per forwarding worker where the driver allows (`ethtool -L`,
/// ETHTOOL_SCHANNELS), so each worker has a socket on it and no frame from it is handed over between workers; and the
/// channels it had put back (<see cref="Restore"/>) when the port is released or the appliance stops, after its sockets
/// are closed (the kernel refuses to remove a queue an AF_XDP socket is bound to). A port that already has as many
/// queues as workers, or more, is left as it is (queue q is served by worker q mod workers). A driver without the channel
/// API, a lower maximum or a refused change leave the port with what it has, said in one log line; the hand-off ring
/// carries the frames of the workers without a socket there. A killed appliance leaves the widened count.</summary>
public sealed class PortQueues
{
    private readonly LinkEthtool _ethtool;
    private readonly Channels _original;

    private PortQueues(LinkEthtool ethtool, string port, Channels original)
    {
        _ethtool = ethtool;
        Port = port;
        _original = original;
    }

    public string Port { get; }

    /// <summary>Widens <paramref name="port"/> to <paramref name="workers"/> RX queues as far as its driver allows;
    /// returns what puts the original channels back, or null when nothing was changed.</summary>
    public static PortQueues? Widen(LinkEthtool ethtool, string port, int workers)
    {
        Channels now;
        try { now = ethtool.GetChannels(port); }
        catch (PlatformException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            if (workers > 1)
                Log.Info("runtime", "port's driver reports no channels: it keeps one RX queue; other workers hand their frames for it over",
                    ("port", port), ("workers", workers));
            return null;
        }
        if (now.RxQueues >= workers) return null;
        var wanted = Target(now, workers);
        if (wanted is not { } next)
        {
            Log.Info("runtime", "port's driver allows no more RX queues: it keeps what it has; other workers hand their frames for it over",
                ("port", port), ("queues", now.RxQueues), ("workers", workers));
            return null;
        }
        try { ethtool.SetChannels(port, next); }
        catch (PlatformException e)
        {
            Log.Warn("runtime", "port's driver refused more RX queues: it keeps what it has; other workers hand their frames for it over",
                ("port", port), ("queues", now.RxQueues), ("workers", workers), ("error", e.Message));
            return null;
        }
        if (next.RxQueues < workers)
            Log.Info("runtime", "port widened to its driver's maximum RX queues, fewer than the workers; the others hand their frames for it over",
                ("port", port), ("queues", $"{now.RxQueues}->{next.RxQueues}"), ("workers", workers));
        else Log.Info("runtime", "port widened to one RX queue per worker", ("port", port), ("queues", $"{now.RxQueues}->{next.RxQueues}"));
        return new PortQueues(ethtool, port, now);
    }

    /// <summary>The channels that give <paramref name="workers"/> RX queues (or the most the driver has), null when
    /// none gives more than now. A driver with combined channels (most NICs: one IRQ, RX and TX per channel) gets more
    /// combined ones; one with separate RX and TX channels (veth, some NICs) more RX ones and as many TX (an AF_XDP
    /// socket on queue q sends on TX queue q).</summary>
    public static Channels? Target(Channels now, int workers)
    {
        if (now.MaxCombined > 0 && (now.Combined > 0 || now.MaxRx == 0))
        {
            uint combined = Math.Min(now.MaxCombined, (uint)Math.Max(0, workers - (int)now.Rx));
            return combined > now.Combined ? now with { Combined = combined } : null;
        }
        if (now.MaxRx == 0) return null;
        uint rx = Math.Min(now.MaxRx, (uint)Math.Max(0, workers - (int)now.Combined));
        if (rx <= now.Rx) return null;
        return now with { Rx = rx, Tx = Math.Max(now.Tx, Math.Min(now.MaxTx, rx)) };
    }

    /// <summary>How long <see cref="Restore"/> waits for the kernel to let go of the closed sockets' queues.</summary>
    private static readonly TimeSpan ReleaseWait = TimeSpan.FromSeconds(2);

    /// <summary>Puts the port's original channels back (its sockets must be closed); a failure is logged. The kernel
    /// unbinds a closed AF_XDP socket's buffer pool from its queue in a work item after the close, and refuses (EINVAL)
    /// to remove a queue that still has one: it is asked again until <see cref="ReleaseWait"/> has passed.</summary>
    public void Restore()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (true)
            {
                try
                {
                    _ethtool.SetChannels(Port, _original);
                    break;
                }
                catch (PlatformException e) when (e.Errno == Errno.EINVAL && waited.Elapsed < ReleaseWait) { Thread.Sleep(10); }
            }
            Log.Info("runtime", "port's RX queues restored", ("port", Port), ("queues", _original.RxQueues));
        }
        catch (PlatformException e)
        {
            Log.Warn("runtime", "could not restore the port's RX queues", ("port", Port), ("queues", _original.RxQueues), ("error", e.Message));
        }
    }
}
