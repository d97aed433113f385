namespace Appliance.Config;

/// <summary>The numeric limits the loader enforces (README "Config reference" explains each).</summary>
public static class ConfigLimits
{
    /// <summary>Largest config file accepted. Real configs are a few KiB; this leaves room for large map contents.</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>Largest eBPF object file a config may name: public tc objects are a few MiB (2 MiB with their BTF the
    /// largest seen); a 1M-instruction program is 8 MiB of code. A bound against a file that would fill the board's memory.</summary>
    public const int MaxObjectBytes = 64 * 1024 * 1024;

    /// <summary>Deepest nesting of objects/arrays accepted (a valid config needs 6).</summary>
    public const int MaxDepth = 32;

    /// <summary>Linux's minimum IPv4 MTU and ETH_MAX_MTU (netkit's min_mtu/max_mtu).</summary>
    public const int MinMtu = 68, MaxMtu = 65535;

    /// <summary>Head/tail room per frame: an AF_XDP frame is at most one 4 KiB page.</summary>
    public const int MaxRoom = 4096;

    /// <summary>Source MACs a pair learns by default besides its interface's own: a tenant is a host or a few
    /// containers/VMs behind one interface, 16 covers that, and at 16 per pair 240 pairs fit one port's 4096-entry
    /// claimed-MAC table with their own MACs.</summary>
    public const int DefaultLearnLimit = 16;

    /// <summary>Most MACs one pair may learn (a tenant bridging a whole LAN); the port's claimed-MAC table holds 4096.</summary>
    public const int MaxLearnLimit = 1024;

    /// <summary>Most RX queues a port may be given (`ports[].queues`): one socket per queue, and the port's XSKMAP has 64 slots.</summary>
    public const int MaxPortQueues = 64;

    /// <summary>Most l3 prefixes of one family the pairs on one uplink may route: the port's XDP steering looks them up
    /// in an LPM_TRIE map of this many entries per family (the board's own addresses inside them share it).</summary>
    public const int MaxL3PrefixesPerUplink = 1024;

    /// <summary>IFNAMSIZ - 1.</summary>
    public const int MaxInterfaceName = 15;

    /// <summary>Names of programs and LEDs.</summary>
    public const int MaxName = 64;

    /// <summary>sizeof(sockaddr_un.sun_path) - 1.</summary>
    public const int MaxSocketPath = 107;

    /// <summary>Longest Linux group name (shadow-utils' default GROUP_NAME_MAX_LENGTH).</summary>
    public const int MaxGroupName = 32;
}
