namespace Appliance.Interop;

/// <summary>XDP attach flags (include/uapi/linux/if_link.h) and program return codes.</summary>
public static class XdpFlags
{
    public const uint UpdateIfNoExist = 1 << 0, SkbMode = 1 << 1, DrvMode = 1 << 2, HwMode = 1 << 3, Replace = 1 << 4;

    public const int Aborted = 0, Drop = 1, Pass = 2, Tx = 3, Redirect = 4;

    /// <summary>BPF_XDP, the attach type of BPF_LINK_CREATE for XDP.</summary>
    public const int AttachTypeXdp = 37;
}
