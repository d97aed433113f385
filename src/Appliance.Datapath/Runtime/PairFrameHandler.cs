using Appliance.Bpf.Context;
using Appliance.Bpf.Vm;
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
    private RuntimeTopology _topology;
    private readonly NetkitPipeline _pipeline;

    /// <param name="vmOptions">The VM's settings (replay collects trace_printk lines); the worker's defaults when null.</param>
    /// <param name="useJit">Run programs the JIT compiled as native code (when <paramref name="vmOptions"/> is null).</param>
    public PairFrameHandler(TopologySource topology, BpfVmOptions? vmOptions = null, bool useJit = false)
    {
        _topology = topology.Current;
        _pipeline = new NetkitPipeline(topology, worker: 0, vmOptions, useJit);
    }

    /// <summary>The pipeline of this handler: how the last frame was decided (<see cref="NetkitPipeline.Decision"/>).</summary>
    public NetkitPipeline Pipeline => _pipeline;

    /// <summary>Snapshots the topology and every side's chain: the whole batch runs them as they were now.</summary>
    public void BeginBatch() => _topology = _pipeline.BeginBatch();

    public FrameVerdict Decide(ref FrameView frame)
    {
        int ingress = frame.IngressPort;
        Begin(ref frame);
        Delivery d;
        var pair = (uint)ingress < (uint)_topology.EnginePortCount ? _topology.PairByEnginePort[ingress] : null;
        if (pair is null)
        {
            var port = (uint)ingress < (uint)_topology.EnginePortCount ? _topology.PortByEnginePort[ingress] : null;
            if (port is null) return FrameVerdict.Drop(DropReason.NoTarget);
            if (port.Classifier.Classify(frame.Data, out int owner) != ClassifyKind.Pair)
            {
                port.UnclaimedField++;
                return port.Config.Unclaimed == UnclaimedPolicy.Kernel ? FrameVerdict.Kernel : FrameVerdict.Drop(DropReason.Policy);
            }
            d = _pipeline.IntoPair(_topology.PairByEnginePort[owner]!);
        }
        else
        {
            var uplink = _topology.PortByEnginePort[pair.UplinkPort]!;
            if (uplink.Classifier.Learn(pair.Index, frame.Data) == LearnResult.Learned)
                uplink.Steering?.Claim(MacAddress.Read(frame.Data[6..]));
            d = _pipeline.FromTenant(pair);
        }
        return Finish(ref frame, d);
    }

    /// <summary>The frame goes straight into <paramref name="pair"/>'s primary side, past classification (replay of
    /// frames captured on that side).</summary>
    public FrameVerdict DecideIntoPair(ref FrameView frame, PairRuntime pair)
    {
        Begin(ref frame);
        return Finish(ref frame, _pipeline.IntoPair(pair));
    }

    private void Begin(ref FrameView frame)
    {
        int headroom = frame.Headroom, length = frame.Length;
        _pipeline.Begin(PacketContext.FromPointer(frame.DataPointer - headroom, headroom + length + frame.Tailroom, headroom, length));
    }

    private FrameVerdict Finish(ref FrameView frame, Delivery d)
    {
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
