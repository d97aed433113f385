using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>The kernel's side of one <see cref="XskPort"/>: the memory its four rings live in and the few calls the
/// forwarding worker makes per batch or per event — never per frame: frames move through the rings, which are plain
/// memory the worker reads and writes itself. The appliance's one implementation is the AF_XDP socket
/// (<see cref="XskSocketKernel"/>: with no other in the binary, NativeAOT calls it directly, so the worker's kicks
/// cost what they did before this interface); the engine's unit tests put a kernel of their own here that delivers
/// and transmits frames in process, so the worker's logic runs without root.</summary>
public interface IXskKernel : IDisposable
{
    string InterfaceName { get; }
    int IfIndex { get; }
    uint Queue { get; }
    /// <summary>What poll() waits on (readable: the RX ring holds frames) and what an XSKMAP entry holds.</summary>
    int Fd { get; }

    /// <summary>The rings as the kernel laid them out: we consume RX and COMPLETION, produce TX and FILL. Each is read
    /// once, when the port is made; the port keeps its own copy (with its cached indices) from then on.</summary>
    XskRing Rx { get; }
    XskRing Tx { get; }
    XskRing Fill { get; }
    XskRing Completion { get; }

    /// <summary>sendto(): transmits what the TX ring holds (copy mode) or wakes the driver. 0 or the errno; never throws.</summary>
    int KickTx();
    /// <summary>recvfrom(): wakes the driver's RX (zero-copy FILL wake-up, or a busy poll). 0 or the errno; never throws.</summary>
    int KickRx();
    /// <summary>The NAPI instance a busy poll of this socket runs (SO_INCOMING_NAPI_ID): 0 when there is none (yet).</summary>
    uint NapiId();
    /// <summary>SO_ERROR, read and cleared: ENETDOWN once the interface was unregistered.</summary>
    int TakeSocketError();
    /// <summary>The kernel's drop counters for this socket.</summary>
    XdpStatistics Statistics();
}
