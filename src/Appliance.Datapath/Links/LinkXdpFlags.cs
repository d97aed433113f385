namespace Appliance.Datapath.Links;

/// <summary>XDP_FLAGS_* for a netlink IFLA_XDP attach (include/uapi/linux/if_link.h).</summary>
[Flags]
public enum LinkXdpFlags : uint
{
    None = 0,
    /// <summary>Fail with EBUSY if a program is already attached.</summary>
    UpdateIfNoExist = 1 << 0,
    /// <summary>Generic (SKB) mode: works on every device, slower.</summary>
    SkbMode = 1 << 1,
    /// <summary>Native (driver) mode: fails when the driver lacks it.</summary>
    DrvMode = 1 << 2,
    /// <summary>Offload to the NIC.</summary>
    HwMode = 1 << 3,
    /// <summary>Replace only the program given as expected (IFLA_XDP_EXPECTED_FD).</summary>
    Replace = 1 << 4,
}
