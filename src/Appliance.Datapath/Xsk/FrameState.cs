namespace Appliance.Datapath.Xsk;

/// <summary>Where one UMEM frame is. Every frame is in exactly one of these places at any time.</summary>
public enum FrameState : byte
{
    /// <summary>On the UMEM's free stack, owned by nobody.</summary>
    Free = 0,
    /// <summary>Given to the kernel for reception: in a FILL ring, in the kernel's RX path, or in an RX ring not yet read.</summary>
    Fill = 1,
    /// <summary>Taken from an RX ring and held by the forwarding worker for the current batch.</summary>
    App = 2,
    /// <summary>Given to the kernel for transmission: in a TX ring, in the driver, or in a COMPLETION ring not yet read.</summary>
    Tx = 3,
}
