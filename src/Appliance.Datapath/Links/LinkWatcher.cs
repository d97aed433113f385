using Appliance.Datapath.Diagnostics;
using Appliance.Interop;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Links;

/// <summary>Watches interfaces of one namespace through the RTNLGRP_LINK multicast group and reports
/// added / up / down / carrier / renamed / changed / deleted events to its subscribers, on its own thread, which
/// sleeps in poll() until the kernel or <see cref="Dispose"/> wakes it (no busy loop, no timer). If the
/// kernel drops notifications (ENOBUFS), the watcher re-reads every link and reports the differences to every
/// subscriber. One watcher (one thread, one socket) serves everyone who follows links of its namespace: each
/// <see cref="Subscribe"/>s, and an exception of one subscriber is reported without keeping the others from the
/// event.</summary>
/// <remarks>To follow a tenant, watch the pair's primary end in the appliance's own namespace: its carrier is on
/// exactly when both ends are up, and it is deleted when the tenant's end goes (even when the tenant deletes its
/// whole namespace). A watcher inside a tenant namespace holds a socket there, and an open socket keeps the
/// namespace alive after `ip netns del`, so the tenant's interfaces would linger until the watcher stops.</remarks>
public sealed class LinkWatcher : IDisposable
{
    private readonly Action<Exception> _onError;
    // Copy on write: the watcher thread reads the array it finds, Subscribe and unsubscribing replace it.
    private Subscription[] _subscribers = [];
    private readonly object _subscribersLock = new();
    private readonly HashSet<string>? _names;
    private readonly NetlinkSocket _events;
    private readonly LinkManager _snapshots;
    private readonly Dictionary<int, LinkInfo> _known = [];
    private readonly Thread _thread;
    private readonly WakeEvent _wake;
    private int _disposed;

    /// <summary>Starts watching. <paramref name="names"/> limits events to those interfaces (followed by
    /// ifindex across renames); null watches all. <paramref name="onEvent"/>, if given, is the first subscriber
    /// (see <see cref="Subscribe"/>; it sees every change from the initial read on). A failure of the watcher itself,
    /// and an exception of a subscriber without its own handler, goes to <paramref name="onError"/> (default: the
    /// log) and the watcher keeps going where it can. <paramref name="receiveBufferBytes"/> is the kernel queue for
    /// notifications; when it overflows the watcher resynchronises from a dump.</summary>
    public LinkWatcher(Action<LinkEvent>? onEvent = null, string? netns = null, IEnumerable<string>? names = null,
        Action<Exception>? onError = null, int receiveBufferBytes = 1 << 20)
    {
        if (onEvent is not null) _subscribers = [new Subscription(this, onEvent, null)];
        _onError = onError ?? (e => Log.Warn("links", $"link watcher: {e.Message}", ("netns", netns ?? "root netns")));
        _names = names is null ? null : new HashSet<string>(names, StringComparer.Ordinal);
        Namespace = netns;
        // Subscribe before the first snapshot so no change falls between them.
        _events = NetworkNamespace.RunInside(netns, () =>
        {
            var s = NetlinkSocket.Open();
            try
            {
                s.JoinGroup(RTNLGRP_LINK);
                s.SetReceiveBuffer(receiveBufferBytes);
                return s;
            }
            catch
            {
                s.Dispose();
                throw;
            }
        });
        try
        {
            _snapshots = new LinkManager(netns);
            foreach (var link in _snapshots.List())
                if (IsWatched(link)) _known[link.Index] = link;
            _wake = new WakeEvent("link watcher");
            _thread = new Thread(Run) { IsBackground = true, Name = $"link watcher {netns ?? "root"}" };
            _thread.Start(); // from here on the thread owns the sockets
        }
        catch
        {
            _wake?.Dispose();
            _snapshots?.Dispose();
            _events.Dispose();
            throw;
        }
    }

    /// <summary>The watched namespace; null for the appliance's own.</summary>
    public string? Namespace { get; }

    /// <summary>Delivers every later event to <paramref name="onEvent"/> (on the watcher thread) until the returned
    /// handle is disposed. To follow a state, subscribe first and read the state after, so no change falls between
    /// them. An exception <paramref name="onEvent"/> throws goes to <paramref name="onError"/> (default: the watcher's)
    /// and the other subscribers still get the event. Once disposing the handle returns, <paramref name="onEvent"/>
    /// no longer runs (it waits for a call in progress, unless it is that call disposing it).</summary>
    public IDisposable Subscribe(Action<LinkEvent> onEvent, Action<Exception>? onError = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var subscription = new Subscription(this, onEvent, onError);
        Exception? stopped;
        lock (_subscribersLock)
        {
            Volatile.Write(ref _subscribers, [.. _subscribers, subscription]);
            stopped = _stoppedBy;
        }
        if (stopped is not null) subscription.Stopped(stopped);
        return subscription;
    }

    /// <summary>Number of live subscriptions.</summary>
    internal int Subscribers => Volatile.Read(ref _subscribers).Length;

    /// <summary>Why the watcher thread ended on its own (poll failed), or null while it watches: once set, no event
    /// comes any more, and every subscriber, also a later one, was told through its error handler.</summary>
    private Exception? _stoppedBy;

    /// <summary>The thread ends on an error: the watcher's handler hears it, and so does each subscriber with a
    /// handler of its own, which would otherwise wait for events that never come.</summary>
    private void Stop(Exception e)
    {
        var stopped = new InvalidOperationException($"stopped watching links: {e.Message}", e);
        Subscription[] subscribers;
        lock (_subscribersLock)
        {
            _stoppedBy = stopped;
            subscribers = _subscribers;
        }
        _onError(stopped);
        foreach (var s in subscribers) s.Stopped(stopped);
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_subscribersLock) Volatile.Write(ref _subscribers, [.. _subscribers.Where(s => s != subscription)]);
    }

    /// <summary>One subscriber. Its lock is held while its callback runs, so ending the subscription from another
    /// thread waits for a call in progress (the watcher thread itself re-enters it, from inside the callback).</summary>
    private sealed class Subscription(LinkWatcher watcher, Action<LinkEvent> onEvent, Action<Exception>? onError) : IDisposable
    {
        private readonly object _gate = new();
        private bool _ended;

        public void Deliver(LinkEvent e)
        {
            lock (_gate)
            {
                if (_ended) return;
                try { onEvent(e); }
                catch (Exception x) { (onError ?? watcher._onError)(x); }
            }
        }

        /// <summary>The watcher stopped for good: a subscriber with a handler of its own hears it there.</summary>
        public void Stopped(Exception e)
        {
            if (onError is null) return;
            lock (_gate)
            {
                if (_ended) return;
                try { onError(e); }
                catch (Exception x) { watcher._onError(x); }
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_ended) return;
                _ended = true;
            }
            watcher.Unsubscribe(this);
        }
    }

    private bool IsWatched(LinkInfo link) => _names is null || _names.Contains(link.Name) || _known.ContainsKey(link.Index);

    private void Run()
    {
        try { Loop(); }
        finally
        {
            // The thread owns the sockets once started, so Dispose from inside a callback is safe. The wake event is
            // closed by Dispose after the join (it may signal it while this thread ends on an error: never a closed,
            // maybe reused, descriptor), or here when Dispose came from a callback on this thread.
            _events.Dispose();
            _snapshots.Dispose();
            if (Volatile.Read(ref _disposedOnThread)) _wake.Dispose();
        }
    }

    private void Loop()
    {
        var buffer = new byte[64 * 1024];
        Span<Tmds.Linux.pollfd> fds = stackalloc Tmds.Linux.pollfd[2];
        while (true)
        {
            fds[0] = PollNative.Input(_events.Fd);
            fds[1] = _wake.PollEntry;
            int ready;
            try { ready = PollNative.Wait(fds, -1); }
            catch (PlatformException e)
            {
                Stop(e);
                return;
            }
            if (ready < 0) continue; // EINTR
            if (fds[1].revents != 0 || Volatile.Read(ref _disposed) != 0) return;
            try { Drain(buffer); }
            catch (Exception e) { _onError(e); }
        }
    }

    private void Drain(byte[] buffer)
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            int n = _events.Receive(buffer, nonBlocking: true);
            if (n == -Errno.EAGAIN) return;
            if (n == -Errno.EINTR) continue;
            if (n == -Errno.ENOBUFS)
            {
                DiscardQueued(buffer);
                Resynchronize();
                continue;
            }
            var reader = new NetlinkMessageReader(buffer.AsSpan(0, n));
            while (reader.TryRead(out var message))
            {
                if (message.Type == RTM_NEWLINK) Observe(LinkInfo.Parse(message.Payload));
                else if (message.Type == RTM_DELLINK) Removed(LinkInfo.Parse(message.Payload));
            }
            if (reader.Malformed) Resynchronize(); // notifications past the bad length are lost, as on ENOBUFS
        }
    }

    /// <summary>After an overflow the queue still holds notifications older than the dump we are about to take;
    /// replaying them after it would report stale states, so they are dropped.</summary>
    private void DiscardQueued(byte[] buffer)
    {
        for (int i = 0; i < 10_000; i++)
        {
            int n = _events.Receive(buffer, nonBlocking: true);
            if (n == -Errno.EAGAIN) return;
        }
    }

    /// <summary>After lost notifications: compares a fresh dump with what we knew.</summary>
    private void Resynchronize()
    {
        var now = _snapshots.List();
        var present = new HashSet<int>(now.Select(l => l.Index));
        foreach (var gone in _known.Values.Where(l => !present.Contains(l.Index)).ToArray()) Removed(gone);
        foreach (var link in now) Observe(link);
    }

    private void Observe(LinkInfo link)
    {
        if (!IsWatched(link)) return;
        if (!_known.TryGetValue(link.Index, out var before))
        {
            _known[link.Index] = link;
            Emit(LinkEventKind.Added, link);
            return;
        }
        _known[link.Index] = link;
        bool reported = false;
        if (before.Name != link.Name) reported |= Emit(LinkEventKind.Renamed, link, before.Name);
        if (before.IsUp != link.IsUp) reported |= Emit(link.IsUp ? LinkEventKind.AdminUp : LinkEventKind.AdminDown, link);
        if (before.Carrier != link.Carrier) reported |= Emit(link.Carrier ? LinkEventKind.CarrierUp : LinkEventKind.CarrierDown, link);
        if (!reported && (before.Mtu != link.Mtu || !Equals(before.Mac, link.Mac) || before.Flags != link.Flags
                          || before.Xdp != link.Xdp || before.Alias != link.Alias))
            Emit(LinkEventKind.Changed, link);
    }

    private void Removed(LinkInfo link)
    {
        bool known = _known.Remove(link.Index);
        if (known || _names is null || _names.Contains(link.Name)) Emit(LinkEventKind.Deleted, link);
    }

    private bool Emit(LinkEventKind kind, LinkInfo link, string? previousName = null)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0) return true;
        var e = new LinkEvent(kind, link, Namespace, previousName);
        foreach (var s in subscribers)
        {
            if (Volatile.Read(ref _disposed) != 0) break; // no callbacks after Dispose
            try { s.Deliver(e); }
            catch (Exception x) { _onError(x); } // a subscriber's own error handler threw
        }
        return true;
    }

    /// <summary>Stops the thread (wakes it through an eventfd and joins it; the thread closes the sockets on its way
    /// out), then closes the eventfd. Called from inside a callback, it returns at once and the thread ends after the
    /// callback, closing the eventfd itself.</summary>
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (Thread.CurrentThread == _thread)
        {
            Volatile.Write(ref _disposedOnThread, true);
            _wake.Signal();
            return;
        }
        _wake.Signal();
        _thread.Join();
        _wake.Dispose();
    }

    private bool _disposedOnThread;
}
