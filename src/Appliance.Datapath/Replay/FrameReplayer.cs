using System.Runtime.InteropServices;
using Appliance.Bpf.Vm;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Capture;

namespace Appliance.Datapath.Replay;

/// <summary>Runs frames one by one through the datapath's own decision (<see cref="PairFrameHandler"/>: L2
/// classification and learning, the pairs' chains through <see cref="NetkitPipeline"/>, the programs in the
/// interpreter, the frame changes applied) on an <see cref="OfflineTopology"/>. Each frame sits in a 4 KiB chunk
/// at the same offset as in an AF_XDP frame (256 bytes of XDP headroom plus the pairs' headroom), so programs have
/// the same room to push headers. Maps, learned MACs and counters carry over from frame to frame. Not thread-safe.</summary>
public sealed unsafe class FrameReplayer : IDisposable, IProgramRunObserver
{
    private const int ChunkSize = 4096, XdpHeadroom = 256;
    private readonly OfflineTopology _offline;
    private readonly PairFrameHandler _handler;
    private readonly byte[] _chunk = GC.AllocateArray<byte>(ChunkSize, pinned: true);
    private readonly int _offset;
    private readonly List<ProgramRun> _runs = [];
    private readonly List<string> _trace = [];
    private int _index;

    public FrameReplayer(OfflineTopology offline)
    {
        _offline = offline;
        var source = new TopologySource(offline.Topology);
        _handler = new PairFrameHandler(source, new BpfVmOptions
        {
            InterfaceMtus = source,
            TraceSink = _trace.Add,
            TraceLinesPerSecond = int.MaxValue,
        });
        _handler.Pipeline.Observer = this;
        int headroom = offline.Config.Pairs.Count == 0 ? 0 : offline.Config.Pairs.Max(p => p.Headroom);
        _offset = XdpHeadroom + ((headroom + 63) & ~63);
    }

    public RuntimeTopology Topology => _offline.Topology;

    /// <summary>Decides <paramref name="frame"/> entering at <paramref name="input"/>. A broadcast or multicast frame
    /// received on a port goes to the board's kernel and, as the group-frame flooder does live, a copy of it goes
    /// through the primary chain of every L2 pair on that port: those decisions are the result's
    /// <see cref="ReplayedFrame.Copies"/>, in the pairs' order.</summary>
    public ReplayedFrame Replay(ReplayInput input, ReadOnlySpan<byte> frame)
    {
        int index = _index++;
        var topology = _offline.Topology;
        if (input.Pair is { } pair)
            return Decide(index, frame, input.Side == PairSideKind.Peer ? pair.PrimaryPort : pair.UplinkPort,
                input.Side == PairSideKind.Primary ? pair : null);
        if (frame.Length < 14 || (frame[0] & 1) == 0) return Decide(index, frame, input.Port, null);
        // The port's XDP program passes every group frame to the kernel (whatever the port's `unclaimed` says).
        var result = new ReplayedFrame(index, DecisionText.Describe(topology, FrameVerdict.Kernel, default),
            DecisionText.Verdict(FrameVerdict.Kernel, default), DecisionText.Reason(FrameVerdict.Kernel, default), null, [], [], null);
        var copies = new List<ReplayedFrame>();
        foreach (int p in topology.Ports[input.Port].L2Pairs)
            if ((uint)p < (uint)topology.PairByEnginePort.Length && topology.PairByEnginePort[p] is { } target)
                copies.Add(Decide(index, frame, input.Port, target));
        return result with { Copies = copies };
    }

    /// <summary>One decision: the frame classified from <paramref name="ingress"/>, or handed straight to
    /// <paramref name="intoPair"/>'s primary side.</summary>
    private ReplayedFrame Decide(int index, ReadOnlySpan<byte> frame, int ingress, PairRuntime? intoPair)
    {
        _runs.Clear();
        _trace.Clear();
        var topology = _offline.Topology;
        FrameVerdict verdict;
        FrameDecision decision = default;
        byte[]? output = null;
        if (frame.Length < 14 || frame.Length > ChunkSize - _offset)
        {
            verdict = FrameVerdict.Drop(DropReason.InvalidFrame); // as the engine drops it before any decision
        }
        else
        {
            frame.CopyTo(_chunk.AsSpan(_offset));
            fixed (byte* chunk = _chunk)
            {
                var view = new FrameView(chunk, ChunkSize, (uint)_offset, (uint)frame.Length, ingress);
                _handler.BeginBatch();
                verdict = intoPair is not null ? _handler.DecideIntoPair(ref view, intoPair) : _handler.Decide(ref view);
                decision = _handler.Pipeline.Decision;
                if (verdict.Kind == VerdictKind.Forward)
                {
                    if ((uint)verdict.TargetPort >= (uint)topology.EnginePortCount) verdict = FrameVerdict.Drop(DropReason.NoTarget);
                    else output = view.Data.ToArray();
                }
            }
        }
        return new ReplayedFrame(index, DecisionText.Describe(topology, verdict, decision), DecisionText.Verdict(verdict, decision),
            DecisionText.Reason(verdict, decision), DecisionText.Target(topology, verdict, decision), [.. _runs], [.. _trace], output);
    }

    void IProgramRunObserver.Ran(RuntimeProgram program, in BpfRunResult result) =>
        _runs.Add(new ProgramRun(program.Name, (int)(uint)result.R0, result.Faulted ? result.Fault.ToString() : null));

    public void Dispose() => _handler.Dispose();
}
