namespace Appliance.Datapath.Engine;

/// <summary>The per-frame decision the forwarding engine calls for every received frame, on its worker thread.
/// Implementations must not allocate or block: they run once per packet. The eBPF chains plug in here.</summary>
public interface IFrameHandler
{
    FrameVerdict Decide(ref FrameView frame);
}
