using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;
using Appliance.Interop;
using Channels = Appliance.Interop.IoctlEthtool.Channels;

namespace Appliance.Datapath.Runtime;

/// <summary>A claimed port's RX queues set for its config where the driver allows (`ethtool -L`, ETHTOOL_SCHANNELS), and
/// the channels it had put back (<see cref="Restore"/>) when the port is released or the appliance stops, after its
/// sockets are closed (the kernel refuses to remove a queue an AF_XDP socket is bound to). A killed appliance leaves
/// the changed count.
/// <list type="bullet">
/// <item>Config <c>queues</c> = n: exactly n RX queues, up or down; more than the driver's maximum gives the maximum
/// (one log line says so).</item>
/// <item>No <c>queues</c>: widened to one per forwarding worker, so each worker has a socket on it and no frame from it
/// is handed over between workers; a port that has as many queues as workers, or more, is left as it is.</item>
/// </list>
/// A driver without the channel API or one that refuses the change leaves the port with what it has, said in one log
/// line: the runtime opens a socket on every queue the port has then (<see cref="ApplianceRuntime"/>'s QueuesFor), so
/// no frame is left without one. Queue q is served by worker q mod workers; with fewer queues than workers the others
/// hand their frames for the port over (ForwardingEngine).</summary>
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

    /// <summary>Sets <paramref name="port"/>'s RX queues for <paramref name="configured"/> (null: widened to
    /// <paramref name="workers"/>) as far as its driver allows; returns what puts the channels it had now back, or null
    /// when nothing was changed. <paramref name="socketsClosed"/>: the port's sockets were just closed (a reload), so a
    /// queue the kernel has not let go of yet is waited for. <paramref name="refused"/>: the driver refused the count
    /// (said in a log line), as some refuse any change while an XDP program is attached.</summary>
    public static PortQueues? Set(LinkEthtool ethtool, string port, int workers, int? configured, out bool refused, bool socketsClosed = false)
    {
        refused = false;
        if (Read(ethtool, port, workers, configured) is not { } now) return null;
        var queues = new PortQueues(ethtool, port, now);
        return queues.Apply(now, workers, configured, socketsClosed, out refused) ? queues : null;
    }

    /// <summary>A reload changed the port's <c>queues</c>: sets them from what the port has now (its sockets closed);
    /// <see cref="Restore"/> still puts back the channels it had before the appliance first changed them.</summary>
    public void Change(int workers, int? configured)
    {
        if (configured is null) Restore(); // every queue it had, widened to the workers below where it had fewer
        if (Read(_ethtool, Port, workers, configured) is { } now) Apply(now, workers, configured, socketsClosed: true, out _);
    }

    private static Channels? Read(LinkEthtool ethtool, string port, int workers, int? configured)
    {
        try { return ethtool.GetChannels(port); }
        catch (PlatformException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            if (configured is not null || workers > 1)
                Log.Info("runtime", "port's driver reports no channels: it keeps its RX queues, each with a socket; other workers hand their frames for it over",
                    ("port", port), ("configured", configured?.ToString() ?? "-"), ("workers", workers));
            return null;
        }
    }

    private bool Apply(Channels now, int workers, int? configured, bool socketsClosed, out bool refused)
    {
        refused = false;
        string port = Port;
        if (configured is not int wanted)
        {
            if (now.RxQueues >= workers) return false;
            wanted = workers;
        }
        else if (now.RxQueues == wanted) return false;
        if ((configured is null ? Target(now, wanted) : Exactly(now, wanted)) is not { } next || next == now)
        {
            Log.Info("runtime", "port's driver allows no other RX queue count: it keeps what it has, each queue with a socket",
                ("port", port), ("queues", now.RxQueues), ("wanted", wanted), ("workers", workers));
            return false;
        }
        try { SetChannels(next, socketsClosed); }
        catch (PlatformException e)
        {
            Log.Warn("runtime", "port's driver refused the RX queue count: it keeps what it has, each queue with a socket",
                ("port", port), ("queues", now.RxQueues), ("wanted", wanted), ("workers", workers), ("error", e.Message));
            refused = true;
            return false;
        }
        string change = $"{now.RxQueues}->{next.RxQueues}";
        if (next.RxQueues != wanted)
            Log.Info("runtime", "port set to the nearest RX queue count its driver allows (its maximum)", ("port", port), ("queues", change),
                ("wanted", wanted), ("workers", workers));
        else if (configured is null) Log.Info("runtime", "port widened to one RX queue per worker", ("port", port), ("queues", change));
        else Log.Info("runtime", "port set to its configured RX queues", ("port", port), ("queues", change), ("workers", workers));
        return true;
    }

    /// <summary>The channels that give <paramref name="workers"/> RX queues (or the most the driver has), null when
    /// none gives more than now. A driver with combined channels (most NICs: one IRQ, RX and TX per channel) gets more
    /// combined ones; one with separate RX and TX channels (veth, some NICs) more RX ones and as many TX (an AF_XDP
    /// socket on queue q sends on TX queue q).</summary>
    public static Channels? Target(Channels now, int workers)
    {
        if (CombinedStyle(now))
        {
            uint combined = Math.Min(now.MaxCombined, (uint)Math.Max(0, workers - (int)now.Rx));
            return combined > now.Combined ? now with { Combined = combined } : null;
        }
        if (now.MaxRx == 0) return null;
        uint rx = Math.Min(now.MaxRx, (uint)Math.Max(0, workers - (int)now.Combined));
        if (rx <= now.Rx) return null;
        return now with { Rx = rx, Tx = Math.Max(now.Tx, Math.Min(now.MaxTx, rx)) };
    }

    /// <summary>The channels that give exactly <paramref name="queues"/> RX queues, up or down (at most the driver's
    /// maximum), null when the driver has no channel to set. Combined channels where the driver uses them; otherwise RX
    /// channels and as many TX ones (at least one of each).</summary>
    public static Channels? Exactly(Channels now, int queues)
    {
        if (CombinedStyle(now))
            return now with { Combined = Math.Clamp((uint)Math.Max(0, queues - (int)now.Rx), now.Rx == 0 ? 1u : 0u, now.MaxCombined) };
        if (now.MaxRx == 0) return null;
        uint rx = Math.Clamp((uint)Math.Max(0, queues - (int)now.Combined), now.Combined == 0 ? 1u : 0u, now.MaxRx);
        return now with { Rx = rx, Tx = now.MaxTx == 0 ? now.Tx : Math.Clamp(rx, 1, now.MaxTx) };
    }

    private static bool CombinedStyle(Channels now) => now.MaxCombined > 0 && (now.Combined > 0 || now.MaxRx == 0);

    /// <summary>How long a change after the port's sockets were closed waits for the kernel to let go of their queues.</summary>
    private static readonly TimeSpan ReleaseWait = TimeSpan.FromSeconds(2);

    /// <summary>ETHTOOL_SCHANNELS. The kernel unbinds a closed AF_XDP socket's buffer pool from its queue in a work item
    /// after the close, and refuses (EINVAL) to remove a queue that still has one: after a close it is asked again until
    /// <see cref="ReleaseWait"/> has passed.</summary>
    private void SetChannels(Channels next, bool socketsClosed)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                _ethtool.SetChannels(Port, next);
                return;
            }
            catch (PlatformException e) when (socketsClosed && e.Errno == Errno.EINVAL && waited.Elapsed < ReleaseWait) { Thread.Sleep(10); }
        }
    }

    /// <summary>Puts the port's original channels back (its sockets must be closed); a failure is logged.</summary>
    public void Restore()
    {
        try
        {
            SetChannels(_original, socketsClosed: true);
            Log.Info("runtime", "port's RX queues restored", ("port", Port), ("queues", _original.RxQueues));
        }
        catch (PlatformException e)
        {
            Log.Warn("runtime", "could not restore the port's RX queues", ("port", Port), ("queues", _original.RxQueues), ("error", e.Message));
        }
    }
}
