namespace Appliance.Datapath.Capture;

/// <summary>One frame of a capture file: the interface it was captured on (index into
/// <see cref="CaptureFile.Interfaces"/>), when, its bytes (at most the snap length), its length on the wire,
/// its direction and comment (pcapng only; pcap has neither).</summary>
public sealed record CaptureRecord(int Interface, long TimestampNanoseconds, byte[] Data, int OriginalLength,
    PacketDirection Direction = PacketDirection.Unknown, string? Comment = null);

/// <summary>An interface of a capture file (a pcapng Interface Description Block; a pcap file has one).</summary>
public sealed record CaptureInterface(string? Name, ushort LinkType, uint SnapLength);

/// <summary>A capture file read whole: its interfaces and frames in file order.</summary>
public sealed record CaptureFile(IReadOnlyList<CaptureInterface> Interfaces, IReadOnlyList<CaptureRecord> Records)
{
    /// <summary>Ethernet (LINKTYPE_ETHERNET), the only link type the appliance captures and replays.</summary>
    public const ushort LinkTypeEthernet = 1;
}
