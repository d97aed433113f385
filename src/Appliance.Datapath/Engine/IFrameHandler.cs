namespace Appliance.Datapath.Engine;

/// <summary>The per-frame decision the forwarding engine calls for every received frame, on its worker thread.
/// Implementations must not allocate or block: they run once per packet. The eBPF chains plug in here.</summary>
public interface IFrameHandler
{
    /// <summary>Called by the engine once before it hands a received batch (up to <see cref="ForwardingEngine.Batch"/>
    /// frames of one port) to <see cref="Decide"/>: the place to take per-batch snapshots (e.g. program chains, so
    /// a chain change takes effect between two batches, never inside one). Must not allocate or block.</summary>
    void BeginBatch() { }

    FrameVerdict Decide(ref FrameView frame);

    /// <summary>Called by the engine on its worker thread at every health check (every <see cref="EngineOptions.HealthInterval"/>
    /// while the worker is awake, at the first wake-up after a sleep — before that wake-up's frames are decided — and
    /// at <see cref="NextTick"/>), between batches: the place for housekeeping such as ageing learned addresses.
    /// <paramref name="nowTicks"/> is <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>. Must not block.</summary>
    void Tick(long nowTicks) { }

    /// <summary>When the handler needs its next <see cref="Tick"/> although no frame comes (a Stopwatch timestamp;
    /// <see cref="long.MaxValue"/>: never — nothing of it expires): an idle worker sleeps until then. Read by the
    /// worker before each sleep, so it may move earlier after a frame (e.g. a first MAC learned). Must not block.</summary>
    long NextTick => long.MaxValue;
}
