namespace Appliance.Datapath.Capture;

/// <summary>A captured frame's direction as pcapng's epb_flags carry it (bits 0-1): inbound = the frame arrived at
/// the capture point, outbound = it left it.</summary>
public enum PacketDirection : byte
{
    Unknown = 0,
    Inbound = 1,
    Outbound = 2,
}
