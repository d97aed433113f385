using System.Diagnostics;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;
using Appliance.Interop;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Routing;

/// <summary>The board's kernel routing state, for the L3 datapath and the routing helpers (<see cref="IFibTables"/>):
/// routes of every table (<see cref="RouteTable"/>), neighbours (<see cref="NeighbourTable"/>), interfaces (MTU, MAC,
/// up, forwarding) and their addresses (a route's source) of the namespace it was opened in. Read over rtnetlink at
/// start (dumps) and kept current from the route, neighbour, address, link and netconf multicast groups by one
/// thread of its own, which sleeps in poll() until the kernel or a worker wakes it. Every change is published as new
/// immutable snapshots (reference swaps), so the forwarding workers read without a lock, an allocation or a syscall.
/// <para>A worker that meets an unknown neighbour calls <see cref="RequestResolve(IpFamily, int, UInt128)"/>: the
/// request goes through a lock-free queue (<see cref="ResolveQueue"/>) to this thread, which asks the kernel to
/// resolve it (RTM_NEWNEIGH with NTF_USE, as `ip neigh replace ADDR dev DEV nud none use`: the kernel sends the ARP
/// request or neighbour solicitation itself); the answer arrives as a neighbour event. One neighbour is asked for at
/// most once per <see cref="ResolveInterval"/>. Lost notifications (ENOBUFS) are repaired by dumping everything again.</para></summary>
public sealed class KernelTables : IFibTables, IDisposable
{
    public static readonly TimeSpan ResolveInterval = TimeSpan.FromMilliseconds(500);

    private sealed class InterfaceState
    {
        public int Mtu;
        public MacAddress Mac;
        public bool Up;
    }

    private readonly NetlinkSocket _events, _requests;
    private readonly Dictionary<(IpFamily Family, int Table, UInt128 Prefix, int Length, uint Metric, int OutIfindex), Route> _routes = [];
    private readonly Dictionary<NeighbourKey, Neighbour> _neighbours = [];
    private readonly Dictionary<int, InterfaceState> _interfaces = [];
    private readonly Dictionary<(int Ifindex, IpFamily Family, UInt128 Address), AddressEntry> _addresses = [];
    private readonly Dictionary<(IpFamily Family, int Ifindex), bool> _forwarding = [];
    private readonly Dictionary<NeighbourKey, long> _lastAsked = [];
    private readonly ResolveQueue _queue = new(1024);
    private readonly RateLimited _errorLog = new(5, TimeSpan.FromSeconds(10)), _dropLog = new(1, TimeSpan.FromSeconds(10));
    private readonly Thread _thread;
    private readonly WakeEvent _wake;
    private RouteTable _routeSnapshot = RouteTable.Empty;
    private NeighbourTable _neighbourSnapshot = NeighbourTable.Empty;
    private Dictionary<int, FibInterface> _interfaceSnapshot = [];
    private BoardAddresses _boardAddresses = BoardAddresses.None;
    private long _generation, _resolveSent, _dropsReported;
    private int _signalled, _disposed;

    /// <summary>Opens the tables of the caller's network namespace: subscribes to the groups, dumps links, addresses,
    /// netconf, routes and neighbours, publishes the first snapshots and starts the thread. Throws when netlink refuses.</summary>
    public KernelTables(int receiveBufferBytes = 4 << 20)
    {
        _events = NetlinkSocket.Open();
        try
        {
            foreach (int group in (int[])[RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
                         RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF])
                _events.JoinGroup(group);
            _events.SetReceiveBuffer(receiveBufferBytes);
            _requests = NetlinkSocket.Open();
            _wake = new WakeEvent("kernel routing tables");
            DumpAll();
            Publish();
        }
        catch
        {
            _wake?.Dispose();
            _requests?.Dispose();
            _events.Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "kernel tables" };
        _thread.Start();
    }

    /// <summary>The routes now (a snapshot: read it once per frame).</summary>
    public RouteTable Routes => Volatile.Read(ref _routeSnapshot);

    /// <summary>The routes' snapshot: a new one is published with every route change.</summary>
    public object? RoutesVersion => Routes;

    /// <summary>The neighbours now (a snapshot).</summary>
    public NeighbourTable Neighbours => Volatile.Read(ref _neighbourSnapshot);

    /// <summary>The board's own addresses now.</summary>
    public BoardAddresses BoardAddresses => Volatile.Read(ref _boardAddresses);

    /// <summary>Raised on the table thread when the board's own addresses change (an address added or removed, a
    /// DHCP lease), with the new set. A handler that throws is logged and the thread goes on.</summary>
    public event Action<BoardAddresses>? BoardAddressesChanged;

    /// <summary>Incremented with every published change (tests wait for a change to arrive).</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Resolution requests sent to the kernel.</summary>
    public long ResolveRequestsSent => Volatile.Read(ref _resolveSent);

    // ---- IFibTables: the per-frame reads (no lock, no allocation, no syscall) ----

    public bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, out FibRoute route) =>
        TryLookupRoute(family, destination, table, 0, out route);

    /// <summary>With <paramref name="outputIfindex"/>, routes through another interface are passed over for the next
    /// route of the prefix, then shorter prefixes, then the next table (<see cref="RouteTable"/>), as the kernel's
    /// fib_table_lookup does for flowi4_oif.</summary>
    public bool TryLookupRoute(IpFamily family, ReadOnlySpan<byte> destination, uint table, int outputIfindex, out FibRoute route)
    {
        route = default;
        int length = IpFamilies.AddressLength(family);
        var routes = Routes;
        Route? found = null;
        if (table != 0)
        {
            if (!routes.TryLookupIn((int)table, family, destination, outputIfindex, out found)) return false;
        }
        else if (length != 0 && destination.Length >= length)
        {
            found = routes.Lookup(family, IpNumbers.Read(family, destination), outputIfindex);
        }
        if (found is not null) route = found.Fib;
        return true;
    }

    /// <summary>A neighbour in use that the kernel has marked stale is handed to the kernel to confirm, as its own
    /// neighbour code does for a stale entry it sends to.</summary>
    public bool TryLookupNeighbour(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop, Span<byte> mac)
    {
        int length = IpFamilies.AddressLength(family);
        if (length == 0 || nextHop.Length < length || mac.Length < 6) return false;
        var address = IpNumbers.Read(family, nextHop);
        if (Neighbours.Find(family, ifindex, address) is not { Usable: true } n) return false;
        WriteMac(n.Mac, mac);
        if (n.Stale) RequestResolve(family, ifindex, address); // in use: let the kernel confirm it (stale → delay → probe)
        return true;
    }

    public void RequestResolve(IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop)
    {
        int length = IpFamilies.AddressLength(family);
        if (length != 0 && nextHop.Length >= length) RequestResolve(family, ifindex, IpNumbers.Read(family, nextHop));
    }

    public bool TryGetInterface(int ifindex, out FibInterface info) => Volatile.Read(ref _interfaceSnapshot).TryGetValue(ifindex, out info);

    /// <summary>Asks for a neighbour to be resolved (from a forwarding worker: no lock, no allocation; a syscall only
    /// to wake the table thread when it is not awake already). Not queued when the kernel is resolving or probing it.</summary>
    public void RequestResolve(IpFamily family, int ifindex, UInt128 address)
    {
        if (Neighbours.Find(family, ifindex, address) is { InProgress: true }) return;
        if (!_queue.TryEnqueue(new NeighbourKey(ifindex, family, address))) return;
        if (Interlocked.Exchange(ref _signalled, 1) != 0) return;
        _wake.Signal();
    }

    private static void WriteMac(MacAddress mac, Span<byte> destination)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(mac.Value >> 32));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)mac.Value);
    }

    // ---- the table thread ----

    private void DumpAll()
    {
        _routes.Clear();
        _neighbours.Clear();
        _interfaces.Clear();
        _addresses.Clear();
        _forwarding.Clear();
        Span<byte> buffer = stackalloc byte[64];
        var links = new NetlinkWriter(buffer, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
        links.WriteIfInfo(0);
        links.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        Dump(links.Finish(), "RTM_GETLINK");
        var addresses = new NetlinkWriter(buffer, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
        addresses.WriteIfAddr(0, 0, 0);
        Dump(addresses.Finish(), "RTM_GETADDR");
        foreach (var family in (IpFamily[])[IpFamily.Inet, IpFamily.Inet6])
        {
            var netconf = new NetlinkWriter(buffer, RTM_GETNETCONF, NLM_F_REQUEST | NLM_F_DUMP);
            netconf.WriteNetconf((byte)family);
            Dump(netconf.Finish(), "RTM_GETNETCONF");
        }
        var routes = new NetlinkWriter(buffer, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
        routes.WriteRtMsg(0, 0, 0, 0, 0, 0);
        Dump(routes.Finish(), "RTM_GETROUTE");
        var neighbours = new NetlinkWriter(buffer, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
        neighbours.WriteNdMsg(0, 0);
        Dump(neighbours.Finish(), "RTM_GETNEIGH");
    }

    /// <summary>An interrupted dump is simply taken again: its entries are applied as upserts, and one that went
    /// meanwhile is removed by its own notification, which follows on the event socket (subscribed before any dump).</summary>
    private void Dump(Span<byte> request, string what) =>
        _requests.Dump(request, $"rtnetlink {what} dump", "kernel routing tables", (in NetlinkMessage m) => Apply(m));

    /// <summary>Applies one message to the mutable tables; true when it changed something.</summary>
    private bool Apply(in NetlinkMessage m)
    {
        switch (m.Type)
        {
            case RTM_NEWROUTE or RTM_DELROUTE:
                if (RoutingMessages.ParseRoute(m.Payload) is not { } r) return false;
                // Its out interface too: one subnet on two interfaces (same prefix and metric) is two routes; a
                // replacement (NLM_F_REPLACE: `ip route replace`) takes the place of every one.
                var rk = (r.Family, r.Table, r.Prefix, r.Length, r.Metric, r.OutIfindex);
                if (m.Type == RTM_NEWROUTE && (m.Flags & NLM_F_REPLACE) != 0)
                    foreach (var old in _routes.Keys.Where(k => (k.Family, k.Table, k.Prefix, k.Length, k.Metric) == (r.Family, r.Table, r.Prefix, r.Length, r.Metric)).ToList())
                        _routes.Remove(old);
                if (m.Type == RTM_NEWROUTE) _routes[rk] = r;
                else _routes.Remove(rk);
                return true;
            case RTM_NEWNEIGH or RTM_DELNEIGH:
                if (RoutingMessages.ParseNeighbour(m.Payload) is not { } n) return false;
                var nk = new NeighbourKey(n.Ifindex, n.Family, n.Address);
                if (m.Type == RTM_NEWNEIGH) _neighbours[nk] = n;
                else _neighbours.Remove(nk);
                return true;
            case RTM_NEWADDR or RTM_DELADDR:
                if (RoutingMessages.ParseAddress(m.Payload) is not { } a) return false;
                var ak = (a.Ifindex, a.Family, a.Address);
                if (m.Type == RTM_NEWADDR) _addresses[ak] = a;
                else _addresses.Remove(ak);
                return true;
            case RTM_NEWNETCONF:
                var (family, ifindex, forwarding) = RoutingMessages.ParseNetconf(m.Payload);
                if (ifindex <= 0 || forwarding is not { } f) return false;
                _forwarding[(family, ifindex)] = f != 0;
                return true;
            case RTM_NEWLINK or RTM_DELLINK:
                var link = LinkInfo.Parse(m.Payload);
                if (m.Type == RTM_DELLINK)
                {
                    // Linux deletes a deleted interface's IPv4 routes without telling (no RTM_DELROUTE).
                    foreach (var gone in _routes.Where(e => e.Value.OutIfindex == link.Index).Select(e => e.Key).ToList()) _routes.Remove(gone);
                    return _interfaces.Remove(link.Index);
                }
                if (!_interfaces.TryGetValue(link.Index, out var s)) _interfaces[link.Index] = s = new InterfaceState();
                s.Mtu = link.Mtu;
                s.Mac = link.Mac is { } pa && pa.GetAddressBytes() is { Length: 6 } b ? MacAddress.Read(b) : default;
                s.Up = link.IsUp;
                return true;
            default:
                return false;
        }
    }

    private void Publish()
    {
        var interfaces = new Dictionary<int, FibInterface>(_interfaces.Count);
        foreach (var (index, s) in _interfaces)
        {
            var info = new FibInterface
            {
                Mtu = s.Mtu, Up = s.Up,
                Forwarding4 = _forwarding.GetValueOrDefault((IpFamily.Inet, index)),
                Forwarding6 = _forwarding.GetValueOrDefault((IpFamily.Inet6, index)),
            };
            WriteMac(s.Mac, info.Mac);
            interfaces[index] = info;
        }
        var routes = _routes.Values.Select(r => r with { Fib = FibOf(r) }).ToList();
        Volatile.Write(ref _routeSnapshot, RouteTable.Build(routes));
        Volatile.Write(ref _neighbourSnapshot, new NeighbourTable(new Dictionary<NeighbourKey, Neighbour>(_neighbours)));
        Volatile.Write(ref _interfaceSnapshot, interfaces);
        long generation = Interlocked.Increment(ref _generation);
        var board = _routes.Values.Where(r => r.Table == RT_TABLE_LOCAL && r.Kind == RouteKind.Local && r.Length == IpNumbers.MaxPrefix(r.Family))
            .Select(r => (r.Family, r.Prefix)).ToHashSet();
        if (board.SetEquals(_boardAddresses.Set)) return;
        var next = new BoardAddresses(generation, board);
        Volatile.Write(ref _boardAddresses, next);
        try { BoardAddressesChanged?.Invoke(next); }
        catch (Exception e) { Log.Warn("routing", "applying the board's new addresses failed", ("error", e.Message)); }
    }

    /// <summary>The helpers' view of a route, with the source the kernel would pick: the route's preferred source,
    /// else a preferred address of the out interface (one whose subnet holds the next hop first), else any global
    /// address of the family.</summary>
    private FibRoute FibOf(Route r)
    {
        var fib = new FibRoute
        {
            Kind = r.Kind, Ifindex = r.OutIfindex, Metric = r.Metric, Mtu = (uint)r.Mtu, MtuLocked = r.MtuLocked,
            GatewayFamily = r.GatewayFamily, Gateway = r.HasGateway ? IpNumbers.Bytes(r.GatewayFamily, r.Gateway) : default,
        };
        UInt128? source = r.PreferredSource != 0 ? r.PreferredSource : null;
        if (source is null && r.Kind == RouteKind.Unicast)
        {
            var near = r.HasGateway && r.GatewayFamily == r.Family ? r.Gateway : r.Prefix;
            var candidates = _addresses.Values.Where(a => a.Family == r.Family && a.Preferred && a.Scope != RT_SCOPE_HOST).ToList();
            var onOif = candidates.Where(a => a.Ifindex == r.OutIfindex).ToList();
            source = onOif.Where(a => IpNumbers.Mask(r.Family, a.Address, a.PrefixLength) == IpNumbers.Mask(r.Family, near, a.PrefixLength))
                         .Select(a => (UInt128?)a.Address).FirstOrDefault()
                     ?? onOif.Where(a => a.Scope == RT_SCOPE_UNIVERSE).Select(a => (UInt128?)a.Address).FirstOrDefault()
                     ?? candidates.Where(a => a.Scope == RT_SCOPE_UNIVERSE).Select(a => (UInt128?)a.Address).FirstOrDefault();
        }
        if (source is { } s)
        {
            fib.SourceFamily = r.Family;
            fib.Source = IpNumbers.Bytes(r.Family, s);
        }
        return fib;
    }

    private void Run()
    {
        try { Loop(); }
        catch (Exception e) { Log.Error("routing", "the kernel table thread stopped; routes and neighbours are no longer followed", ("error", e.Message)); }
        finally
        {
            _events.Dispose();
            _requests.Dispose();
        }
    }

    private unsafe void Loop()
    {
        var buffer = new byte[256 * 1024];
        var fds = stackalloc Tmds.Linux.pollfd[2];
        while (Volatile.Read(ref _disposed) == 0)
        {
            fds[0] = PollNative.Input(_events.Fd);
            fds[1] = _wake.PollEntry;
            if (PollNative.Poll(fds, 2, -1) < 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR) continue;
                throw PlatformException.FromLastError("poll", "kernel routing tables");
            }
            if (Volatile.Read(ref _disposed) != 0) return;
            if (fds[1].revents != 0)
            {
                _wake.Drain();
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
                if (_errorLog.TryEnter(out long suppressed))
                    Log.Warn("routing", "the kernel refused to resolve a neighbour", ("neighbour", IpNumbers.Format(key.Family, key.Address)),
                        ("ifindex", key.Ifindex), ("error", e.Message), ("suppressed", suppressed));
            }
        }
        if (_lastAsked.Count > 4096)
            foreach (var k in _lastAsked.Where(e => now - e.Value > interval).Select(e => e.Key).ToArray()) _lastAsked.Remove(k);
        // The workers cannot log from the hot path: requests a full queue turned away are reported here.
        long dropped = _queue.Dropped;
        if (dropped != _dropsReported && _dropLog.TryEnter(out _))
        {
            Log.Warn("routing", "neighbour resolution requests dropped (queue full; the next frame asks again)",
                ("dropped", dropped - _dropsReported), ("total", dropped));
            _dropsReported = dropped;
        }
    }

    /// <summary>`ip neigh replace ADDR dev IFINDEX nud none use`: creates the entry if needed and lets the kernel
    /// resolve it (ARP request / neighbour solicitation), without touching a known address.</summary>
    private void Ask(NeighbourKey key)
    {
        Span<byte> buffer = stackalloc byte[64];
        Span<byte> address = stackalloc byte[16];
        int length = IpFamilies.AddressLength(key.Family);
        IpNumbers.Write(key.Family, key.Address, address);
        var w = new NetlinkWriter(buffer, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
        w.WriteNdMsg((byte)key.Family, key.Ifindex, NUD_NONE, NTF_USE);
        w.PutBytes(NDA_DST, address[..length]);
        _requests.Transact(w.Finish(), "rtnetlink RTM_NEWNEIGH (resolve)", $"{IpNumbers.Format(key.Family, key.Address)} on ifindex {key.Ifindex}");
    }

    /// <summary>Stops the thread (wakes it and joins it; it closes the sockets on its way out), then closes the wake
    /// event. The event lives until then, also when the thread stopped on an error: a worker asking for a neighbour
    /// meanwhile signals an open eventfd, never a closed descriptor whose number the process may have given to
    /// something else.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _wake.Signal();
        if (Thread.CurrentThread == _thread) return;
        _thread.Join();
        _wake.Dispose();
    }
}
