using Appliance.Bpf.Context;
using Appliance.Config;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Pairs;

namespace Appliance.Datapath.Runtime;

/// <summary>The forwarding engine's decision for the appliance (worker 0). A frame from a port is classified by
/// destination MAC (<see cref="L2Classifier"/>) and goes into the owning pair's primary side; one from a pair's
/// primary end was sent by the tenant and goes through the pair's peer side (its source MAC is learned on the
/// uplink). The program's changes are applied to the frame (new head and tail from the context, an offloaded VLAN
/// tag written into the bytes). Pair drops are counted on the pair side by reason and on the ingress port as
/// Policy.</summary>
public sealed unsafe class PairFrameHandler : IFrameHandler, IDisposable
{
    private readonly RuntimeTopology _topology;
    private readonly NetkitPipeline _pipeline;

    public PairFrameHandler(RuntimeTopology topology, bool useJit = false)
    {
        _topology = topology;
        _pipeline = new NetkitPipeline(topology, worker: 0, useJit);
    }

    /// <summary>Snapshots every side's chain: the whole batch runs the chains as they were now.</summary>
    public void BeginBatch() => _pipeline.BeginBatch();

    public FrameVerdict Decide(ref FrameView frame)
    {
        int ingress = frame.IngressPort;
        int headroom = frame.Headroom, length = frame.Length;
        _pipeline.Begin(PacketContext.FromPointer(frame.DataPointer - headroom, headroom + length + frame.Tailroom, headroom, length));
        Delivery d;
        var pair = (uint)ingress < (uint)_topology.EnginePortCount ? _topology.PairByEnginePort[ingress] : null;
        if (pair is null)
        {
            if ((uint)ingress >= (uint)_topology.Ports.Length) return FrameVerdict.Drop(DropReason.NoTarget);
            var port = _topology.Ports[ingress];
            if (port.Classifier.Classify(frame.Data, out int owner) != ClassifyKind.Pair)
            {
                port.UnclaimedField++;
                return port.Config.Unclaimed == UnclaimedPolicy.Kernel ? FrameVerdict.Kernel : FrameVerdict.Drop(DropReason.Policy);
            }
            d = _pipeline.IntoPair(_topology.Pairs[owner]);
        }
        else
        {
            var uplink = _topology.Ports[pair.UplinkPort];
            if (uplink.Classifier.Learn(pair.Index, frame.Data) == LearnResult.Learned)
                uplink.Steering?.Claim(MacAddress.Read(frame.Data[6..]));
            d = _pipeline.FromTenant(pair);
        }
        if (d.Dropped) return FrameVerdict.Drop(DropReason.Policy);
        return Apply(ref frame, ref _pipeline.Context) ? FrameVerdict.Forward(d.EnginePort) : FrameVerdict.Drop(DropReason.InvalidFrame);
    }

    /// <summary>Moves the view to the context's data and writes an offloaded VLAN tag into the bytes.</summary>
    private static bool Apply(ref FrameView frame, ref PacketContext ctx)
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
