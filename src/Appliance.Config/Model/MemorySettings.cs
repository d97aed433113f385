namespace Appliance.Config;

/// <summary>The `memory` section: how much the AF_XDP datapath sets aside per port (each port and each pair's
/// primary end has one socket). Unset members take the board's defaults (<see cref="ForBoard"/>): small on the
/// boards under board/, server-sized elsewhere (a PC). The UMEM holds <c>frames + ringSize + 128</c> frames of
/// <see cref="FrameSize"/> bytes per port. Read at start; a reload does not resize the rings.</summary>
public sealed record MemorySettings
{
    /// <summary>UMEM frames kept with the kernel for reception per port (the FILL ring is twice as large); a power of two.</summary>
    public int? Frames { get; set; }

    /// <summary>RX, TX and completion ring entries per port; a power of two.</summary>
    public int? RingSize { get; set; }

    /// <summary>2048 or 4096 bytes per UMEM frame; unset: 2048 when the largest frame (MTU + headroom + tailroom) fits, else 4096.</summary>
    public int? FrameSize { get; set; }

    public const int MinFrames = 128, MaxFrames = 16384, MinRingSize = 128, MaxRingSize = 16384;

    /// <summary>Frames and ring size for <paramref name="board"/> where the config leaves them out: the boards
    /// with a profile under board/ (512 MB class) get 512/512, anything else (a PC, a server) 2048/2048.</summary>
    public (int Frames, int RingSize) ForBoard(string board)
    {
        var (frames, ring) = board is "qemu-virt" or "rpi4" or "nanopi-r5s" ? (512, 512) : (2048, 2048);
        return (Frames ?? frames, RingSize ?? ring);
    }
}
