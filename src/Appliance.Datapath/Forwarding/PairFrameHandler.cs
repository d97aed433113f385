using System.Diagnostics;
using System.Runtime.CompilerServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Vm;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>The forwarding engine's decision for the appliance (one per forwarding worker, and the group-frame
/// flooder's for its copies into the pairs: <see cref="DecideIntoPair"/>). A frame from a port is classified by
/// destination MAC (<see cref="L2Classifier"/>) and goes into the owning pair's primary side; one from a pair's
/// primary end was sent by the tenant and goes through the pair's peer side (its source MAC is learned on the
/// uplink). The program's changes are applied to the frame (new head and tail from the context, an offloaded VLAN
/// tag written into the bytes); what then goes into a tenant that does not trunk VLANs must be untagged
/// (<see cref="Deliver"/>). Pair drops are counted on the pair side by reason and on the ingress port as
/// that reason reads there (<see cref="PairDropReasons.OnPort"/>). Learning is bounded (<see cref="L2Classifier"/>): a frame from a source the tenant may not use (a refused
/// learn: the board's MAC, another tenant's, past the learn limit; a group or zero MAC) is dropped (InvalidSource)
/// and a refused learn counted on the pair by reason — sent on, it would teach the switches upstream that the board's
/// or another tenant's MAC lives behind this port (and fill their tables), taking their traffic away; a claim the
/// kernel refuses is counted and logged rate-limited, never thrown (that frame goes out). Learned MACs unseen for the ageing time are forgotten and released
/// from the port's steering at the tick when the oldest one falls due (<see cref="NextTick"/>: no learned MAC, no
/// tick; any worker may age, one at a time per port).</summary>
public sealed unsafe class PairFrameHandler : IFrameHandler, IMacOwners, IDisposable
{
    /// <summary>How long a learned MAC stays without a frame from it: 300 s, a Linux bridge's default ageing_time.</summary>
    public static readonly TimeSpan DefaultLearnAgeing = TimeSpan.FromSeconds(300);

    private readonly TopologySource _source;
    private RuntimeTopology _topology;
    private readonly NetkitPipeline _pipeline;
    private readonly L3Router _l3;
    private readonly TenantGuard _guard;
    private readonly long _ageingTicks;
    private readonly RateLimited _learnLog = new(5, TimeSpan.FromSeconds(10));
    private readonly int _worker;
    /// <summary>This worker's last destination MAC a port's classifier found an owner for (a flow's frames: one lookup).</summary>
    private ClassifyMemo _classifyMemo;

    /// <summary>The forwarding worker this handler decides for.</summary>
    public int Worker => _worker;

    /// <param name="vmOptions">The VM's settings (replay collects trace_printk lines); the worker's defaults when null.</param>
    /// <param name="useJit">Run programs the JIT compiled as native code (when <paramref name="vmOptions"/> is null).</param>
    /// <param name="learnAgeing">How long a learned MAC lives unseen (<see cref="DefaultLearnAgeing"/> when null).</param>
    /// <param name="fibTables">The board's routing tables, for L3 pairs and the routing helpers (null: those in
    /// <paramref name="vmOptions"/>, else none: L3 tenants' frames find no route).</param>
    /// <param name="worker">The forwarding worker it decides for (its counter slot).</param>
    /// <param name="processorId">The CPU that worker is pinned to: what its programs see as their CPU (null: <paramref name="worker"/>).</param>
    public PairFrameHandler(TopologySource topology, BpfVmOptions? vmOptions = null, bool useJit = false, TimeSpan? learnAgeing = null,
        Appliance.Bpf.Routing.IFibTables? fibTables = null, int worker = 0, uint? processorId = null)
    {
        _source = topology;
        _topology = topology.Current;
        _worker = worker;
        var tables = fibTables ?? vmOptions?.FibTables;
        _guard = new TenantGuard(tables);
        _pipeline = new NetkitPipeline(topology, worker, vmOptions, useJit, fibTables, processorId, _guard);
        _l3 = new L3Router(tables);
        var ageing = learnAgeing ?? DefaultLearnAgeing;
        _ageingTicks = (long)(ageing.TotalSeconds * Stopwatch.Frequency);
        long now = Stopwatch.GetTimestamp();
        foreach (var p in _topology.Ports) p.Classifier.SetClock(now);
    }

    /// <summary>When the oldest learned MAC of any port can have aged out (its last-seen time, a lower bound, plus the
    /// ageing time); <see cref="long.MaxValue"/> when none is learned: an idle worker then sleeps without a timeout.
    /// A MAC lives from ageing to ageing + the workers' clock step (<see cref="EngineOptions.HealthInterval"/>).</summary>
    public long NextTick
    {
        get
        {
            long oldest = long.MaxValue;
            foreach (var port in _source.Current.Ports) oldest = Math.Min(oldest, port.Classifier.OldestLearned);
            return oldest == long.MaxValue ? long.MaxValue : oldest + _ageingTicks + 1;
        }
    }

    /// <summary>Health tick (worker thread, between batches): the classifiers' clock, and ageing of learned MACs on
    /// ports whose oldest one is due (the classifiers are shared by all workers: one ages a port at a time, the
    /// others then find nothing due).</summary>
    public void Tick(long nowTicks)
    {
        var topology = _source.Current;
        long cutoff = nowTicks - _ageingTicks;
        foreach (var port in topology.Ports)
        {
            var classifier = port.Classifier;
            classifier.SetClock(nowTicks);
            if (classifier.OldestLearned >= cutoff) continue;
            lock (classifier.AgeingGate)
            {
                foreach (var aged in classifier.Age(cutoff))
                {
                    var pair = (uint)aged.Pair < (uint)topology.EnginePortCount ? topology.PairByEnginePort[aged.Pair] : null;
                    Release(port, pair, aged.Mac, _learnLog, "could not release an aged MAC");
                    // Counted after the release: whoever sees the count sees the MAC gone from the port's steering.
                    if (pair is not null) Interlocked.Increment(ref pair.Learning.AgedField);
                }
            }
        }
    }

    /// <summary>The pipeline of this handler: how the last frame was decided (<see cref="NetkitPipeline.Decision"/>).</summary>
    public NetkitPipeline Pipeline => _pipeline;

    /// <summary>Snapshots the topology and every side's chain: the whole batch runs them as they were now.</summary>
    public void BeginBatch() => _topology = _pipeline.BeginBatch();

    /// <summary>See <see cref="NetkitPipeline.ForgetPrograms"/>: between batches only.</summary>
    public void ForgetPrograms() => _topology = _pipeline.ForgetPrograms();

    /// <summary>The topology the current batch reads (taken by <see cref="BeginBatch"/>).</summary>
    internal RuntimeTopology Topology => _topology;

    public FrameVerdict Decide(ref FrameView frame)
    {
        int ingress = frame.IngressPort;
        Begin(ref frame);
        var topology = _topology;
        var pair = (uint)ingress < (uint)topology.EnginePortCount ? topology.PairByEnginePort[ingress] : null;
        if (pair is null) return FromPort(ref frame, ingress);
        if (pair.Config.Mode == PairMode.L3) return FinishFromL3Tenant(ref frame, pair, _pipeline.FromTenant(pair));
        var uplink = topology.PortByEnginePort[pair.UplinkPort]!;
        var learn = uplink.Classifier.Learn(pair.Index, frame.Data, this);
        if (learn != LearnResult.Known && !Learned(learn, uplink, pair, frame.Data)) return FrameVerdict.Drop(DropReason.InvalidSource);
        return FinishFromL2Tenant(ref frame, pair, uplink, _pipeline.FromTenant(pair));
    }

    /// <summary>A frame a board port received: an L3 tenant's (routed in) or the L2 pair's that owns its destination
    /// MAC. Inlined into <see cref="Decide"/>, the rare outcomes out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private FrameVerdict FromPort(ref FrameView frame, int ingress)
    {
        var topology = _topology;
        var port = (uint)ingress < (uint)topology.EnginePortCount ? topology.PortByEnginePort[ingress] : null;
        if (port is null) return FrameVerdict.Drop(DropReason.NoTarget);
        if (port.L3Prefixes.Count != 0 && FromL3Port(ref frame, port, out var routed)) return routed;
        if (port.Classifier.Classify(frame.Data, out int owner, ref _classifyMemo) != ClassifyKind.Pair) return Unclaimed(port);
        // The gateway answers ARP and refreshes its neighbours by unicast: what such frames claim is the outside's; a
        // DHCP server's unicast DHCPACK binds the lease to the tenant.
        if (ClaimedAddresses.MayClaim(frame.Data)) HeardFromWire(frame.Data, port);
        return Finish(ref frame, _pipeline.IntoPair(topology.PairByEnginePort[owner]!));
    }

    /// <summary>A port's frame for one of its L3 tenants (or the gateway's ARP/ND for them): true with the verdict;
    /// false when it is not (L2 classification decides).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool FromL3Port(ref FrameView frame, PortRuntime port, out FrameVerdict verdict)
    {
        switch (_l3.FromPort(ref frame, port, out var l3Pair))
        {
            case L3Ingress.Answered: verdict = FrameVerdict.Forward(port.Index); return true;
            case L3Ingress.Expired: verdict = FrameVerdict.Drop(DropReason.TtlExpired); return true;
            case L3Ingress.InvalidSource: verdict = FrameVerdict.Drop(DropReason.InvalidSource); return true;
            case L3Ingress.ToPair: verdict = Finish(ref frame, _pipeline.IntoPair(l3Pair!)); return true;
            default: verdict = default; return false;
        }
    }

    /// <summary>No pair owns the destination (rare: the XDP program passes only claimed MACs; any worker may count it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FrameVerdict Unclaimed(PortRuntime port)
    {
        Interlocked.Increment(ref port.UnclaimedField);
        return port.Config.Unclaimed == UnclaimedPolicy.Kernel ? FrameVerdict.Kernel : FrameVerdict.Drop(DropReason.Policy);
    }

    /// <summary>What a unicast frame from the port's wire claims (<see cref="ClaimedAddresses.HeardFromWire"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HeardFromWire(ReadOnlySpan<byte> frame, PortRuntime port) =>
        port.ClaimedAddresses.HeardFromWire(frame, ClaimedAddresses.SenderOf(frame, _topology), port.Classifier, _topology, port.Classifier.Now);

    /// <summary>The frame goes straight into <paramref name="pair"/>'s primary side, past classification (replay of
    /// frames captured on that side).</summary>
    public FrameVerdict DecideIntoPair(ref FrameView frame, PairRuntime pair)
    {
        Begin(ref frame);
        return Finish(ref frame, _pipeline.IntoPair(pair));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Begin(ref FrameView frame)
    {
        int headroom = frame.Headroom, length = frame.Length;
        _pipeline.Begin(frame.DataPointer - headroom, headroom + length + frame.Tailroom, headroom, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private FrameVerdict Finish(ref FrameView frame, Delivery d)
    {
        if (d.Dropped) return PairDropped();
        return Apply(ref frame, in _pipeline.Context) ? Deliver(frame.Data, d.EnginePort) : FrameVerdict.Drop(DropReason.InvalidFrame);
    }

    /// <summary>The frame, its chains run and their changes applied, goes to <paramref name="enginePort"/>; into a
    /// tenant (a pair's primary end) only untagged when that tenant does not trunk VLANs (<see
    /// cref="TenantGuard.RefusesIntoTenant"/>), else dropped as <see cref="PairDropReason.VlanTagged"/> on the side that
    /// let it in: the primary side whose chain passed it (or whose program sent it on with bpf_redirect_peer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private FrameVerdict Deliver(ReadOnlySpan<byte> frame, int enginePort)
    {
        if ((uint)enginePort < (uint)_topology.EnginePortCount && _topology.PairByEnginePort[enginePort] is { } into
            && TenantGuard.RefusesIntoTenant(frame, into))
            return NotDelivered(PairDropReason.VlanTagged);
        return FrameVerdict.Forward(enginePort);
    }

    /// <summary>The frame the last decision forwarded is not delivered after all: dropped for <paramref name="reason"/>
    /// on the side that let it go (the primary side whose chain passed it, or the side whose program sent it on), no
    /// longer counted as delivered there; the decision says so (a capture's comment).</summary>
    public FrameVerdict NotDelivered(PairDropReason reason)
    {
        ref readonly var decided = ref _pipeline.Decision;
        var side = decided.Side == PairSideKind.Primary ? decided.Pair!.Primary : decided.Pair!.Peer;
        _pipeline.DropAfterChain(side, reason);
        return FrameVerdict.Drop(reason.OnPort());
    }

    /// <summary>A frame a pair side dropped: on the port as that side's reason reads there (<see cref="PairDropReasons.OnPort"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private FrameVerdict PairDropped() => FrameVerdict.Drop(_pipeline.Decision.DropReason.OnPort());

    /// <summary>An L2 tenant's frame after its peer side: what goes out of a board port — passed to the uplink or
    /// redirected to a port by a program — may not carry a VLAN tag the tenant put on when it does not trunk VLANs,
    /// claim an address or a MAC that is not the tenant's as its IP source,
    /// in ARP or in neighbour discovery, nor be a router's or DHCP server's message the tenant does not serve
    /// (<see cref="TenantGuard"/>); a redirect into another pair was judged the same way on its way there
    /// (<see cref="NetkitPipeline"/>).</summary>
    private FrameVerdict FinishFromL2Tenant(ref FrameView frame, PairRuntime pair, PortRuntime uplink, Delivery d)
    {
        if (d.Dropped) return PairDropped();
        bool chainTagged = _pipeline.Context.VlanPresent; // Apply writes the tag the chain pushed into the bytes
        if (!Apply(ref frame, in _pipeline.Context)) return FrameVerdict.Drop(DropReason.InvalidFrame);
        if ((uint)d.EnginePort < (uint)_topology.EnginePortCount && _topology.PortByEnginePort[d.EnginePort] is { } port)
        {
            if (_guard.Judge(frame.Data, pair, uplink, port, _topology, chainTagged) is { } refused) return DropAfterChain(pair, refused);
            return FrameVerdict.Forward(d.EnginePort);
        }
        return Deliver(frame.Data, d.EnginePort);
    }

    /// <summary>Drops a frame the tenant's peer side passed: counted there by <paramref name="reason"/>, on the port as
    /// it reads there (<see cref="PairDropReasons.OnPort"/>).</summary>
    private FrameVerdict DropAfterChain(PairRuntime pair, PairDropReason reason)
    {
        _pipeline.DropAfterChain(pair.Peer, reason);
        return FrameVerdict.Drop(reason.OnPort());
    }

    /// <summary>An L3 tenant's frame after its peer side: what the side passed to the uplink is routed by the board's
    /// tables (<see cref="L3Router.Route"/>); a redirect goes where the program sent it, unchanged.</summary>
    private FrameVerdict FinishFromL3Tenant(ref FrameView frame, PairRuntime pair, Delivery d)
    {
        if (d.Dropped) return PairDropped();
        if (!Apply(ref frame, in _pipeline.Context)) return FrameVerdict.Drop(DropReason.InvalidFrame);
        if (_pipeline.Decision.Verdict != NetkitVerdict.Pass) return Deliver(frame.Data, d.EnginePort);
        var uplink = _topology.PortByEnginePort[pair.UplinkPort]!;
        if (_l3.Route(ref frame, _topology, pair, uplink, out int port) is { } reason) return DropAfterChain(pair, reason);
        return FrameVerdict.Forward(port);
    }

    /// <summary>The rare outcomes of learning: claim a new MAC (one bpf() call), count a refusal. False: drop the frame
    /// (an invalid or refused source).</summary>
    private bool Learned(LearnResult learn, PortRuntime uplink, PairRuntime pair, ReadOnlySpan<byte> frame)
    {
        switch (learn)
        {
            case LearnResult.InvalidSource:
                return false;
            case LearnResult.Learned:
                var mac = MacAddress.Read(frame[6..]);
                int errno = uplink.Steering?.TryClaim(mac) ?? 0;
                if (errno == 0)
                {
                    // The flooder may have moved the MAC outside (and released it) between the learn and the claim:
                    // then nobody owns it and the claim must not stay behind.
                    if (!uplink.Classifier.Owns(pair.Index, mac))
                    {
                        Release(uplink, pair, mac, _learnLog, "could not release a MAC that moved outside while it was claimed");
                        return false;
                    }
                    Interlocked.Increment(ref pair.Learning.LearnedField);
                    return true;
                }
                uplink.Classifier.Forget(mac);
                Interlocked.Increment(ref pair.Learning.ClaimErrorsField);
                if (_learnLog.TryEnter(out long suppressed))
                    Log.Warn("learning", "the kernel refused to claim a learned MAC; not learned", ("pair", pair.Name), ("mac", mac),
                        ("errno", Errno.Name(errno)), ("suppressed", suppressed));
                return true;
            default:
                pair.Learning.CountRefusal(learn);
                return false;
        }
    }

    /// <summary>Whether a pair of another port owns <paramref name="mac"/> (the batch's topology): no tenant learns it
    /// (<see cref="L2Classifier.Learn"/>). Asked only for a source MAC its own port does not know.</summary>
    public bool OwnedElsewhere(MacAddress mac, L2Classifier asking) => _topology.TryMacOwner(mac, out _, except: asking);

    /// <summary>Removes a MAC that <paramref name="pair"/> no longer owns from <paramref name="port"/>'s steering (aged,
    /// moved outside). A removal the kernel refuses is counted on the pair as a claim error and logged through
    /// <paramref name="log"/> with <paramref name="failure"/>, never thrown.</summary>
    internal static void Release(PortRuntime port, PairRuntime? pair, MacAddress mac, RateLimited log, string failure)
    {
        try
        {
            port.Steering?.Release(mac);
        }
        catch (Interop.PlatformException e)
        {
            if (pair is not null) Interlocked.Increment(ref pair.Learning.ClaimErrorsField);
            if (log.TryEnter(out long suppressed))
                Log.Warn("learning", failure, ("port", port.Name), ("mac", mac), ("error", e.Message), ("suppressed", suppressed));
        }
    }

    /// <summary>Moves the view to the context's data and writes an offloaded VLAN tag into the bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Apply(ref FrameView frame, in PacketContext ctx)
    {
        int headDelta = ctx.DataOffset - frame.Headroom;
        if (headDelta != 0 && !frame.AdjustHead(headDelta)) return false;
        int tailDelta = ctx.Length - frame.Length;
        if (tailDelta != 0 && !frame.AdjustTail(tailDelta)) return false;
        if (!ctx.VlanPresent) return true;
        if (!frame.AdjustHead(-VlanTagWriter.TagLength)) return false;
        VlanTagWriter.Write(frame.Data, ctx.VlanProto, ctx.VlanTci);
        return true;
    }

    public void Dispose() => _pipeline.Dispose();
}
