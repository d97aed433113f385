using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Routing;
using Appliance.Bpf.Vm;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Forwarding;

/// <summary>netkit_xmit for the appliance, one per worker (it owns that worker's <see cref="BpfVm"/> and the frame's
/// <see cref="PacketContext"/>; nothing here allocates or makes a syscall per frame).
/// <list type="bullet">
/// <item><see cref="FromTenant"/>: the tenant transmitted on its peer end → the pair's PEER side runs (scrub per the
/// peer side, ctx->ifindex = the primary end, ingress_ifindex = 0) → PASS/NEXT-after-last goes out of the uplink.</item>
/// <item><see cref="IntoPair"/>: a frame from a port classified to the pair, or redirected to its primary end →
/// the pair's PRIMARY side runs (scrub per the primary side, ctx->ifindex = the tenant's interface) → PASS
/// delivers into the tenant.</item>
/// <item>No program: the side's policy. DROP and unknown verdicts drop. REDIRECT goes to the ifindex the program
/// gave bpf_redirect: a port transmits there; a pair's primary end runs that pair's PRIMARY chain; BPF_F_INGRESS,
/// unknown ifindexes, a missing bpf_redirect and more than <see cref="MaxRedirects"/> hops are counted drops.</item>
/// <item>bpf_redirect_neigh: out of that port with the Ethernet header rebuilt for the next hop (the program's, else
/// the route to the frame's destination through that port, else on-link) from the board's neighbour table; an unknown
/// neighbour is asked to be resolved and the frame is a counted drop (NoNeighbour), as are frames that are not IP,
/// sent to a multicast MAC, or routed by a blackhole/unreachable/prohibit route (NoRoute).</item>
/// <item>bpf_redirect_peer: into the tenant of the pair whose primary end the ifindex names, past that pair's primary
/// chain (the kernel hands the skb straight to the peer device). Only where the kernel allows it, tc ingress: the
/// primary side of a frame a port received stands for the port's tc ingress hook; from a tenant's frames or after a
/// redirect it is a counted drop (PeerNotAtIngress), as in netkit.</item>
/// <item>Carrier: a pair without carrier drops what its sides would send (tx_dropped on the sender).</item>
/// <item>An L2 tenant's frame redirected into a pair is judged by the tenant checks on its way in
/// (<see cref="TenantGuard"/>), as it would be going out of a port.</item>
/// </list>
/// Metadata (mark, priority, tc_index, cb, VLAN tag) stays in the context across redirects; each side's scrub
/// decides what its programs see.</summary>
public sealed unsafe class NetkitPipeline : IDisposable
{
    public const int MaxRedirects = 8;

    private readonly TopologySource _source;
    private RuntimeTopology _topology;
    private readonly int _worker;
    private readonly BpfVm _vm;
    private readonly IFibTables? _tables;
    private readonly TenantGuard? _guard;
    private readonly RateLimited _faultLog = new(5, TimeSpan.FromSeconds(5));
    private PacketContext _ctx;
    /// <summary>The unmanaged buffer <see cref="Begin"/> pointed the context at (the context's bytes are always there:
    /// only Begin re-points it, and others see it read-only).</summary>
    private byte* _buffer;
    private FrameDecision _decision;
    private bool _faulted;
    private uint _redirectIfindex;
    private ulong _redirectFlags;
    private RuntimeProgram[][] _primaryChains = [];
    private RuntimeProgram[][] _peerChains = [];

    /// <param name="useJit">Run programs the JIT compiled as native code (ignored when <paramref name="vmOptions"/> is given).</param>
    /// <param name="fibTables">The routing tables bpf_fib_lookup / bpf_redirect_neigh read (when <paramref name="vmOptions"/> is null).</param>
    /// <param name="worker">The counter slot this pipeline adds to (<see cref="WorkerCounters"/>: the forwarding
    /// worker's index, or the flooder's slot).</param>
    /// <param name="processorId">The CPU its programs run on (bpf_get_smp_processor_id, the per-CPU map slot): the
    /// worker's pinned CPU; null: <paramref name="worker"/> (ignored when <paramref name="vmOptions"/> is given).</param>
    /// <param name="guard">Judges an L2 tenant's frame its peer side redirects into a pair (null: none is judged).</param>
    public NetkitPipeline(TopologySource topology, int worker, BpfVmOptions? vmOptions = null, bool useJit = false,
        IFibTables? fibTables = null, uint? processorId = null, TenantGuard? guard = null)
    {
        _source = topology;
        _guard = guard;
        _topology = topology.Current;
        _worker = worker;
        BeginBatch();
        _vm = new BpfVm(vmOptions ?? new BpfVmOptions
        {
            ProcessorId = processorId ?? (uint)worker,
            InterfaceMtus = topology,
            TraceSink = line => Log.Info("bpf", line),
            UseJit = useJit,
            FibTables = fibTables,
        });
        _tables = _vm.Options.FibTables;
    }

    /// <summary>Reads the topology and every pair side's chain once (one reference each, no allocation unless the
    /// topology grew): the frames until the next call run these even if they change meanwhile, so a change swaps in
    /// between two batches (SPEC §4).</summary>
    public RuntimeTopology BeginBatch()
    {
        var topology = _source.Current;
        _topology = topology;
        if (_primaryChains.Length < topology.EnginePortCount)
        {
            _primaryChains = new RuntimeProgram[topology.EnginePortCount][];
            _peerChains = new RuntimeProgram[topology.EnginePortCount][];
        }
        var pairs = topology.Pairs;
        for (int i = 0; i < pairs.Length; i++)
        {
            var p = pairs[i];
            _primaryChains[p.Index] = p.Primary.Chain.Programs;
            _peerChains[p.Index] = p.Peer.Chain.Programs;
        }
        return topology;
    }

    /// <summary>Drops what the pipeline and its VM keep of earlier batches (chains of pairs gone, the VM's last program
    /// and pins: <see cref="BpfVm.ForgetPrograms"/>), so what a reload dropped becomes garbage, and reads the chains
    /// anew. Between batches only (the worker parked).</summary>
    public RuntimeTopology ForgetPrograms()
    {
        _vm.ForgetPrograms();
        _decision.Clear(); // the last frame's pairs and deciding program
        Array.Clear(_primaryChains);
        Array.Clear(_peerChains);
        return BeginBatch();
    }

    /// <summary>The frame being processed: its bytes, offsets and metadata after the chains ran.</summary>
    public ref readonly PacketContext Context => ref _ctx;

    /// <summary>The frame's bytes as the context has them now (<see cref="PacketContext.Data"/>, without asking which
    /// kind of buffer it is).</summary>
    private Span<byte> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_buffer + _ctx.DataOffset, _ctx.Length);
    }

    /// <summary>How the current frame was decided (sides, program, verdict, drop reason, redirect target).</summary>
    public ref readonly FrameDecision Decision => ref _decision;

    /// <summary>Told about every program run (replay); null in the datapath (one null check per program run).</summary>
    public IProgramRunObserver? Observer { get; set; }

    /// <summary>Starts a frame in unmanaged memory (a UMEM chunk, pinned for the frame's processing): fresh metadata
    /// (a frame from a wire or a tenant carries none), protocol from its bytes. The pipeline's one context is reset in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Begin(byte* buffer, int capacity, int dataOffset, int length)
    {
        _ctx.Reset(buffer, capacity, dataOffset, length);
        _buffer = buffer;
        _decision.Begin();
        _ctx.Protocol = PacketContext.ProtocolOf(new ReadOnlySpan<byte>(buffer + dataOffset, Math.Min(length, 16)));
    }

    /// <summary>The tenant of <paramref name="pair"/> sent the frame (it arrived on the primary end's socket).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Delivery FromTenant(PairRuntime pair)
    {
        var side = pair.Peer;
        if (!Enter(pair, side)) return Delivery.Drop;
        Prepare(side, pair.PrimaryIfindex, pair.PrimaryMac);
        return Decide(pair, side, pair.UplinkPort, 0);
    }

    /// <summary>The frame goes into the tenant of <paramref name="pair"/>: the pair's primary side decides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Delivery IntoPair(PairRuntime pair) => IntoPair(pair, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Delivery IntoPair(PairRuntime pair, int hops)
    {
        var side = pair.Primary;
        if (!Enter(pair, side)) return Delivery.Drop;
        Prepare(side, pair.TenantIfindex, pair.TenantMac);
        return Decide(pair, side, pair.PrimaryPort, hops);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Enter(PairRuntime pair, PairSide side)
    {
        _decision.Enter(pair, side.Kind);
        side.Counters.In(_worker, _ctx.Length);
        if (pair.CarrierUp) return true;
        DropOn(side, PairDropReason.Carrier);
        return false;
    }

    /// <summary>netkit_prep_forward + what the program sees: the sender's scrub, skb_iif cleared, the receiving
    /// device as ifindex, pkt_type relative to the receiving device's MAC.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Prepare(PairSide side, int receivingIfindex, MacAddress receivingMac)
    {
        _ctx.IngressIfindex = 0;
        _ctx.Tstamp = 0; // the tenant is always in another namespace (xnet)
        if (side.Scrub == ScrubMode.Default)
        {
            _ctx.Mark = 0;
            _ctx.Priority = 0;
        }
        _ctx.Ifindex = (uint)receivingIfindex;
        _ctx.PacketType = PacketTypeOf(Data, receivingMac);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint PacketTypeOf(ReadOnlySpan<byte> frame, MacAddress receiver)
    {
        if (frame.Length < 6) return 3;
        var dst = MacAddress.Read(frame);
        if (dst.Value == 0xffff_ffff_ffffUL) return 1; // PACKET_BROADCAST
        if (dst.IsMulticast) return 2;                     // PACKET_MULTICAST
        return dst == receiver ? 0u : 3u;              // PACKET_HOST / PACKET_OTHERHOST
    }

    private Delivery Decide(PairRuntime pair, PairSide side, int passPort, int hops)
    {
        _faulted = false;
        _redirectIfindex = 0;
        _redirectFlags = 0;
        var programs = side.Kind == PairSideKind.Primary ? _primaryChains[pair.Index] : _peerChains[pair.Index];
        var runner = new Runner(this, programs);
        var result = ChainEvaluation.Evaluate(programs.Length, side.Policy, ref runner);
        _decision.Verdict = result.Verdict;
        _decision.DecidedBy(result.ByPolicy ? null : programs[result.DecidingProgram]);
        switch (result.Verdict)
        {
            case NetkitVerdict.Pass:
                side.Counters.Out(_worker, _ctx.Length);
                return Delivery.To(passPort);
            case NetkitVerdict.Redirect:
                side.Counters.Out(_worker, _ctx.Length);
                return Redirect(pair, side, hops);
            default:
                return DropOn(side, result.ByPolicy ? PairDropReason.Policy
                    : _faulted ? PairDropReason.ProgramFault
                    : result.UnknownVerdict ? PairDropReason.UnknownVerdict
                    : PairDropReason.Verdict);
        }
    }

    private Delivery Redirect(PairRuntime pair, PairSide from, int hops)
    {
        _decision.RedirectIfindex = _redirectIfindex;
        _decision.RedirectHelper = (_redirectFlags & RedirectFlags.Peer) != 0 ? RedirectHelper.Peer
            : (_redirectFlags & RedirectFlags.Neigh) != 0 ? RedirectHelper.Neigh : RedirectHelper.Redirect;
        _decision.Redirects = hops + 1;
        if (_redirectIfindex == 0) return DropOn(from, PairDropReason.NoTarget);
        if (_decision.RedirectHelper == RedirectHelper.Peer) return RedirectPeer(from, hops);
        if (_decision.RedirectHelper == RedirectHelper.Neigh) return RedirectNeigh(pair, from);
        if ((_redirectFlags & RedirectFlags.Ingress) != 0) return DropOn(from, PairDropReason.IngressRedirect);
        if (_topology.TryPort(_redirectIfindex, out int port)) return Delivery.To(port);
        if (_topology.TryPairPrimary(_redirectIfindex, out int target))
        {
            if (hops + 1 > MaxRedirects) return DropOn(from, PairDropReason.RedirectLoop);
            var into = _topology.PairByEnginePort[target]!;
            if (RefusedFromTenant(into)) return Delivery.Drop;
            return IntoPair(into, hops + 1);
        }
        return DropOn(from, PairDropReason.NoTarget);
    }

    /// <summary>An L2 tenant's frame (it entered at its pair's peer side) that a program redirects into
    /// <paramref name="into"/>'s tenant is judged as if it went out of that pair's uplink (<see cref="TenantGuard"/>):
    /// true when refused, counted on the tenant's peer side. Every such hop is judged, as every port it leaves by.</summary>
    private bool RefusedFromTenant(PairRuntime into)
    {
        if (_guard is null || _decision.EntrySide != PairSideKind.Peer || _decision.EntryPair is not { Config.Mode: PairMode.L2 } tenant)
            return false;
        var uplink = _topology.PortByEnginePort[tenant.UplinkPort]!;
        var port = _topology.PortByEnginePort[into.UplinkPort]!;
        if (_guard.Judge(Data, tenant, uplink, port, _topology) is not { } reason) return false;
        DropAfterChain(tenant.Peer, reason);
        return true;
    }

    /// <summary>skb_do_redirect with BPF_F_PEER: only at tc ingress (a port's frame in the first side it entered), into
    /// the peer of a device that has one (a pair's primary end), which must have carrier.</summary>
    private Delivery RedirectPeer(PairSide from, int hops)
    {
        if (from.Kind != PairSideKind.Primary || hops != 0) return DropOn(from, PairDropReason.PeerNotAtIngress);
        if (!_topology.TryPairPrimary(_redirectIfindex, out int target)) return DropOn(from, PairDropReason.NoTarget);
        var pair = _topology.PairByEnginePort[target]!;
        if (!pair.CarrierUp) return DropOn(from, PairDropReason.Carrier);
        return Delivery.To(pair.PrimaryPort);
    }

    /// <summary>skb_do_redirect with BPF_F_NEIGH (__bpf_redirect_neigh): an IP frame (by the context's protocol) not
    /// sent to a multicast MAC leaves the port with destination MAC = the next hop's from the neighbour table and source
    /// MAC = the port's. The next hop: the program's (BPF_F_NEXTHOP), else the gateway of the route to the destination
    /// through that port, else the destination itself (on-link, as the kernel assumes when no route uses that port). An
/// unknown next hop is asked for within the pair's share (<see cref="PairRuntime.RequestResolve"/>), as the L3 path does.</summary>
    private Delivery RedirectNeigh(PairRuntime pair, PairSide from)
    {
        if (!_topology.TryPort(_redirectIfindex, out int port)) return DropOn(from, PairDropReason.NoTarget);
        var data = Data;
        ushort protocol = _ctx.Protocol;
        if (_tables is null || data.Length < 14 || (data[0] & 1) != 0 || protocol is not (0x0800 or 0x86dd))
            return DropOn(from, PairDropReason.NoRoute);
        int ifindex = (int)_redirectIfindex;
        IpFamily family;
        var nextHop = default(IpAddressBytes);
        if ((_redirectFlags & RedirectFlags.NextHop) != 0)
        {
            family = _vm.RedirectNextHopFamily;
            nextHop = _vm.RedirectNextHop;
            if (family == IpFamily.Unspec) return DropOn(from, PairDropReason.NoRoute);
        }
        else
        {
            family = protocol == 0x0800 ? IpFamily.Inet : IpFamily.Inet6;
            int at = family == IpFamily.Inet ? 14 + 16 : 14 + 24, length = IpFamilies.AddressLength(family);
            if (data.Length < at + length) return DropOn(from, PairDropReason.NoRoute);
            var destination = data.Slice(at, length);
            if (!_tables.TryLookupRoute(family, destination, 0, ifindex, out var route)) return DropOn(from, PairDropReason.NoRoute);
            if (route.Kind == RouteKind.Unicast && route.HasGateway)
            {
                family = route.GatewayFamily;
                nextHop = route.Gateway;
            }
            else if (route.Kind is RouteKind.Unicast or RouteKind.Unspec) nextHop = IpAddressBytes.From(destination);
            else return DropOn(from, PairDropReason.NoRoute);
        }
        ReadOnlySpan<byte> hop = ((ReadOnlySpan<byte>)nextHop)[..IpFamilies.AddressLength(family)];
        if (!_tables.TryLookupNeighbour(family, ifindex, hop, data[..6]))
        {
            pair.RequestResolve(_tables, family, ifindex, hop);
            return DropOn(from, PairDropReason.NoNeighbour);
        }
        ulong mac = _topology.PortByEnginePort[port]!.Mac.Value;
        BinaryPrimitives.WriteUInt16BigEndian(data[6..], (ushort)(mac >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(data[8..], (uint)mac);
        return Delivery.To(port);
    }

    /// <summary>A tenant's frame that its peer side passed but the appliance does not send: an L3 tenant's that the
    /// routing could not send (no route, no neighbour, TTL, isolation, source), an L2 tenant's that the tenant checks
    /// refuse (<see cref="TenantGuard"/>). Counted on that side and recorded in the
    /// decision like a drop of the side; no longer counted as delivered by it.</summary>
    public void DropAfterChain(PairSide side, PairDropReason reason)
    {
        _decision.Dropped = true;
        _decision.DropReason = reason;
        side.Counters.NotDelivered(_worker, _ctx.Length, reason);
    }

    private Delivery DropOn(PairSide side, PairDropReason reason)
    {
        _decision.Dropped = true;
        _decision.DropReason = reason;
        side.Counters.Drop(_worker, reason);
        return Delivery.Drop;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Run(RuntimeProgram program)
    {
        int bytes = _ctx.Length;
        var r = _vm.Run(program.Program, ref _ctx);
        program.Counters.Ran(_worker, bytes, r.Verdict, r.Faulted);
        if (Observer is { } observer) observer.Ran(program, r);
        if (r.Faulted) return Faulted(program, r);
        if (r.Verdict == (int)NetkitVerdict.Redirect)
        {
            _redirectIfindex = r.RedirectIfindex;
            _redirectFlags = r.RedirectFlags;
        }
        return r.R0;
    }

    /// <summary>A program faulted: the frame drops (counted as ProgramFault), logged rate-limited.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong Faulted(RuntimeProgram program, in BpfRunResult r)
    {
        _faulted = true;
        if (_faultLog.TryEnter(out long suppressed))
            Log.Warn("datapath", "program faulted, frame dropped", ("program", program.Name), ("fault", r.Fault),
                ("insn", r.FaultInstruction), ("suppressed", suppressed));
        return (ulong)(uint)NetkitVerdict.Drop;
    }

    private readonly struct Runner(NetkitPipeline pipeline, RuntimeProgram[] programs) : IProgramRunner
    {
        public ulong Run(int index) => pipeline.Run(programs[index]);
    }

    public void Dispose() => _vm.Dispose();
}
