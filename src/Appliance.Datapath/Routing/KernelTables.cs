using System.Diagnostics;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;
using Appliance.Interop;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Routing;

/// <summary>The board's kernel routing state for the datapath: routes (<see cref="RouteTable"/>), neighbours
/// (<see cref="NeighbourTable"/>) and interfaces (MTU, MAC) of the namespace it was opened in, read over rtnetlink
/// at start (dumps) and kept current from the route, neighbour and link multicast groups by one thread of its own,
/// which sleeps in poll() until the kernel or a worker wakes it. Every change is published as a new immutable
/// snapshot (one reference swap), so the forwarding workers read without a lock, an allocation or a syscall.
/// <para>A worker that meets an unknown (or stale) neighbour calls <see cref="RequestResolve"/>: the request goes
/// through a lock-free queue to this thread, which asks the kernel to resolve it (RTM_NEWNEIGH with NTF_USE, as
/// `ip neigh replace ADDR dev DEV nud none use`: the kernel sends the ARP request or neighbour solicitation itself);
/// the answer arrives as a neighbour event. Requests for one neighbour are sent at most once per
/// <see cref="ResolveInterval"/>. Lost notifications (ENOBUFS) are repaired by dumping everything again.</para></summary>
public sealed class KernelTables : IDisposable
{
    public static readonly TimeSpan ResolveInterval = TimeSpan.FromMilliseconds(500);

    private readonly NetlinkSocket _events, _requests;
    private readonly Dictionary<(int Family, int Table, UInt128 Prefix, int Length, uint Metric), Route> _routes = [];
    private readonly Dictionary<NeighbourKey, Neighbour> _neighbours = [];
    private readonly Dictionary<int, InterfaceEntry> _interfaces = [];
    private readonly Dictionary<NeighbourKey, long> _lastAsked = [];
    private readonly ResolveQueue _queue = new(1024);
    private readonly RateLimited _errorLog = new(5, TimeSpan.FromSeconds(10));
    private readonly Thread _thread;
    private readonly int _wakeFd;
    private RouteTable _routeSnapshot = RouteTable.Empty;
    private NeighbourTable _neighbourSnapshot = NeighbourTable.Empty;
    private Dictionary<int, InterfaceEntry> _interfaceSnapshot = [];
    private long _generation, _resolveSent, _resolveFailed;
    private int _signalled, _disposed;

    /// <summary>Opens the tables of the caller's network namespace: subscribes to the groups, dumps links, routes and
    /// neighbours, publishes the first snapshots and starts the thread. Throws when netlink refuses.</summary>
    public KernelTables(int receiveBufferBytes = 4 << 20)
    {
        _events = NetlinkSocket.Open();
        try
        {
            foreach (int group in (int[])[RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE]) _events.JoinGroup(group);
            _events.SetReceiveBuffer(receiveBufferBytes);
            _requests = NetlinkSocket.Open();
            _wakeFd = SocketCalls.EventFd(0, SocketCalls.EFD_CLOEXEC | SocketCalls.EFD_NONBLOCK);
            if (_wakeFd < 0) throw PlatformException.FromLastError("eventfd", "kernel routing tables");
            DumpAll();
            Publish();
        }
        catch
        {
            _requests?.Dispose();
            _events.Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "kernel tables" };
        _thread.Start();
    }

    /// <summary>The routes now (a snapshot: read it once per frame or batch).</summary>
    public RouteTable Routes => Volatile.Read(ref _routeSnapshot);

    /// <summary>The neighbours now (a snapshot).</summary>
    public NeighbourTable Neighbours => Volatile.Read(ref _neighbourSnapshot);

    /// <summary>The interface with <paramref name="ifindex"/> now, null when there is none.</summary>
    public InterfaceEntry? Interface(int ifindex) => Volatile.Read(ref _interfaceSnapshot).TryGetValue(ifindex, out var e) ? e : null;

    /// <summary>Incremented with every published change (tests wait for a change to arrive).</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Resolution requests sent to the kernel, and those it refused.</summary>
    public long ResolveRequestsSent => Volatile.Read(ref _resolveSent);
    public long ResolveRequestsFailed => Volatile.Read(ref _resolveFailed);
    /// <summary>Requests lost because the queue to this thread was full.</summary>
    public long ResolveRequestsDropped => _queue.Dropped;

    /// <summary>Asks for a neighbour to be resolved (from a forwarding worker: no lock, no allocation; a syscall only
    /// to wake the table thread when it is not already awake). Requests for a neighbour the kernel is already
    /// resolving (an incomplete entry) are not queued.</summary>
    public unsafe void RequestResolve(int family, int ifindex, UInt128 address)
    {
        var key = new NeighbourKey(ifindex, family, address);
        if (Neighbours.Find(family, ifindex, address) is { State: NUD_INCOMPLETE or NUD_DELAY or NUD_PROBE }) return;
        if (!_queue.TryEnqueue(key)) return;
        if (Interlocked.Exchange(ref _signalled, 1) != 0) return;
        ulong one = 1;
        SocketCalls.Write(_wakeFd, &one, sizeof(ulong));
    }

    private void DumpAll()
    {
        _routes.Clear();
        _neighbours.Clear();
        _interfaces.Clear();
        Span<byte> buffer = stackalloc byte[64];
        var links = new NetlinkWriter(buffer, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
        links.WriteIfInfo(0);
        links.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        _requests.Transact(links.Finish(), "rtnetlink RTM_GETLINK dump", "kernel routing tables", (in NetlinkMessage m) => Apply(m));
        var routes = new NetlinkWriter(buffer, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
        routes.WriteRtMsg(0, 0, 0, 0, 0, 0);
        _requests.Transact(routes.Finish(), "rtnetlink RTM_GETROUTE dump", "kernel routing tables", (in NetlinkMessage m) => Apply(m));
        var neighbours = new NetlinkWriter(buffer, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
        neighbours.WriteNdMsg(0, 0);
        _requests.Transact(neighbours.Finish(), "rtnetlink RTM_GETNEIGH dump", "kernel routing tables", (in NetlinkMessage m) => Apply(m));
    }

    /// <summary>Applies one message to the mutable tables; true when it changed something.</summary>
    private bool Apply(in NetlinkMessage m)
    {
        switch (m.Type)
        {
            case RTM_NEWROUTE or RTM_DELROUTE:
                if (RoutingMessages.ParseRoute(m.Payload) is not { } r) return false;
                var rk = (r.Family, r.Table, r.Prefix, r.Length, r.Metric);
                if (m.Type == RTM_NEWROUTE) _routes[rk] = r;
                else _routes.Remove(rk);
                return true;
            case RTM_NEWNEIGH or RTM_DELNEIGH:
                if (RoutingMessages.ParseNeighbour(m.Payload) is not { } n) return false;
                var nk = new NeighbourKey(n.Ifindex, n.Family, n.Address);
                if (m.Type == RTM_NEWNEIGH) _neighbours[nk] = n;
                else _neighbours.Remove(nk);
                return true;
            case RTM_NEWLINK or RTM_DELLINK:
                var link = LinkInfo.Parse(m.Payload);
                if (m.Type == RTM_DELLINK) return _interfaces.Remove(link.Index);
                var mac = link.Mac is { } pa && pa.GetAddressBytes() is { Length: 6 } b ? MacAddress.Read(b) : default;
                _interfaces[link.Index] = new InterfaceEntry(link.Index, link.Name, link.Mtu, mac, link.IsUp);
                return true;
            default:
                return false;
        }
    }

    private void Publish()
    {
        Volatile.Write(ref _routeSnapshot, RouteTable.Build(_routes.Values));
        Volatile.Write(ref _neighbourSnapshot, new NeighbourTable(new Dictionary<NeighbourKey, Neighbour>(_neighbours)));
        Volatile.Write(ref _interfaceSnapshot, new Dictionary<int, InterfaceEntry>(_interfaces));
        Interlocked.Increment(ref _generation);
    }

    private void Run()
    {
        try { Loop(); }
        catch (Exception e) { Log.Error("routing", "the kernel table thread stopped; routes and neighbours are no longer followed", ("error", e.Message)); }
        finally
        {
            LibC.Close(_wakeFd);
            _events.Dispose();
            _requests.Dispose();
        }
    }

    private unsafe void Loop()
    {
        var buffer = new byte[256 * 1024];
        var fds = stackalloc SocketCalls.PollFd[2];
        while (Volatile.Read(ref _disposed) == 0)
        {
            fds[0] = new SocketCalls.PollFd { Fd = _events.Fd, Events = SocketCalls.POLLIN };
            fds[1] = new SocketCalls.PollFd { Fd = _wakeFd, Events = SocketCalls.POLLIN };
            if (SocketCalls.Poll(fds, 2, -1) < 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR) continue;
                throw PlatformException.FromLastError("poll", "kernel routing tables");
            }
            if (Volatile.Read(ref _disposed) != 0) return;
            if (fds[1].REvents != 0)
            {
                ulong value;
                SocketCalls.Read(_wakeFd, &value, sizeof(ulong));
                Volatile.Write(ref _signalled, 0);
                Resolve();
            }
            try { Drain(buffer); }
            catch (Exception e) when (e is PlatformException or FormatException)
            {
                if (_errorLog.TryEnter(out long suppressed))
                    Log.Warn("routing", "reading routing events failed", ("error", e.Message), ("suppressed", suppressed));
            }
        }
    }

    private void Drain(byte[] buffer)
    {
        bool changed = false;
        while (Volatile.Read(ref _disposed) == 0)
        {
            int n = _events.Receive(buffer, nonBlocking: true);
            if (n == -Errno.EAGAIN) break;
            if (n == -Errno.EINTR) continue;
            if (n == -Errno.ENOBUFS)
            {
                while (_events.Receive(buffer, nonBlocking: true) > 0) { } // older than the dump we take now
                DumpAll();
                changed = true;
                continue;
            }
            var reader = new NetlinkMessageReader(buffer.AsSpan(0, n));
            while (reader.TryRead(out var message)) changed |= Apply(message);
        }
        if (changed) Publish();
    }

    /// <summary>Sends the queued resolution requests (each neighbour at most once per <see cref="ResolveInterval"/>).</summary>
    private void Resolve()
    {
        long now = Stopwatch.GetTimestamp(), interval = (long)(ResolveInterval.TotalSeconds * Stopwatch.Frequency);
        while (_queue.TryDequeue(out var key))
        {
            if (_lastAsked.TryGetValue(key, out long last) && now - last < interval) continue;
            _lastAsked[key] = now;
            try
            {
                Ask(key);
                Interlocked.Increment(ref _resolveSent);
            }
            catch (PlatformException e)
            {
                Interlocked.Increment(ref _resolveFailed);
                if (_errorLog.TryEnter(out long suppressed))
                    Log.Warn("routing", "the kernel refused to resolve a neighbour", ("neighbour", IpFamily.Format(key.Family, key.Address)),
                        ("ifindex", key.Ifindex), ("error", e.Message), ("suppressed", suppressed));
            }
        }
        if (_lastAsked.Count > 4096)
            foreach (var k in _lastAsked.Where(e => now - e.Value > interval).Select(e => e.Key).ToArray()) _lastAsked.Remove(k);
    }

    /// <summary>`ip neigh replace ADDR dev IFINDEX nud none use`: creates the entry if needed and lets the kernel
    /// resolve it (ARP request / neighbour solicitation), without touching a known address.</summary>
    private void Ask(NeighbourKey key)
    {
        Span<byte> buffer = stackalloc byte[64];
        Span<byte> address = stackalloc byte[16];
        int length = IpFamily.AddressLength(key.Family);
        IpFamily.Write(key.Family, key.Address, address);
        var w = new NetlinkWriter(buffer, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
        w.WriteNdMsg((byte)key.Family, key.Ifindex, NUD_NONE, NTF_USE);
        w.PutBytes(NDA_DST, address[..length]);
        _requests.Transact(w.Finish(), "rtnetlink RTM_NEWNEIGH (resolve)", $"{IpFamily.Format(key.Family, key.Address)} on ifindex {key.Ifindex}");
    }

    /// <summary>Stops the thread (wakes it and joins it); it closes the sockets on its way out.</summary>
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        ulong one = 1;
        SocketCalls.Write(_wakeFd, &one, sizeof(ulong));
        if (Thread.CurrentThread != _thread) _thread.Join();
    }
}
