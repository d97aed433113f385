using System.Buffers.Binary;

namespace Appliance.Interop;

/// <summary>Legacy ethtool commands over SIOCETHTOOL (include/uapi/linux/ethtool.h). Each call needs a socket
/// in the interface's network namespace: the kernel resolves the name in the socket's namespace.</summary>
public static class IoctlEthtool
{
    public const uint ETHTOOL_STXCSUM = 0x17, ETHTOOL_GFLAGS = 0x25, ETHTOOL_SFLAGS = 0x26, ETHTOOL_GCHANNELS = 0x3c, ETHTOOL_SCHANNELS = 0x3d;

    /// <summary>ETH_FLAG_RXVLAN of ETHTOOL_GFLAGS/SFLAGS: the device takes the outer 802.1Q tag off received frames
    /// into metadata (`rx-vlan-offload`, NETIF_F_HW_VLAN_CTAG_RX).</summary>
    public const uint ETH_FLAG_RXVLAN = 1u << 8;

    /// <summary>struct ethtool_channels: cmd, max_rx, max_tx, max_other, max_combined, rx_count, tx_count,
    /// other_count, combined_count (all u32).</summary>
    public readonly record struct Channels(uint MaxRx, uint MaxTx, uint MaxOther, uint MaxCombined,
        uint Rx, uint Tx, uint Other, uint Combined)
    {
        /// <summary>Queues that receive: combined + RX-only channels.</summary>
        public int RxQueues => (int)(Combined + Rx);
    }

    /// <summary>ETHTOOL_STXCSUM: switches all TX checksum offload features (the kernel maps it to
    /// NETIF_F_CSUM_MASK) on or off; features that depend on it (TSO) follow.</summary>
    public static void SetTxChecksum(int socketFd, string ifName, bool on) =>
        Value(socketFd, ifName, ETHTOOL_STXCSUM, on ? 1u : 0u, "ETHTOOL_STXCSUM");

    /// <summary>ETHTOOL_GFLAGS: the legacy offload flags (ETH_FLAG_*) as the device has them now.</summary>
    public static uint GetFlags(int socketFd, string ifName) => Value(socketFd, ifName, ETHTOOL_GFLAGS, 0, "ETHTOOL_GFLAGS");

    /// <summary>ETHTOOL_SFLAGS (`ethtool -K`'s lro, rxvlan, txvlan, ntuple, rxhash): asks for <paramref name="flags"/>;
    /// EOPNOTSUPP (or EINVAL) when a changed one is fixed for this device. The device may still keep a feature another
    /// needs: read the flags back.</summary>
    public static void SetFlags(int socketFd, string ifName, uint flags) => Value(socketFd, ifName, ETHTOOL_SFLAGS, flags, "ETHTOOL_SFLAGS");

    /// <summary>A command that takes or gives one struct ethtool_value (u32 cmd, u32 data): <paramref name="data"/> in,
    /// the data field as the kernel left it out.</summary>
    private static uint Value(int socketFd, string ifName, uint command, uint data, string name)
    {
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(value, command);
        BinaryPrimitives.WriteUInt32LittleEndian(value[4..], data);
        IoctlCalls.InterfaceDataIoctl(socketFd, IoctlCalls.SIOCETHTOOL, ifName, value, $"ioctl(SIOCETHTOOL, {name})");
        return BinaryPrimitives.ReadUInt32LittleEndian(value[4..]);
    }

    /// <summary>ETHTOOL_GCHANNELS; throws PlatformException (EOPNOTSUPP) when the driver has no channel API.</summary>
    public static Channels GetChannels(int socketFd, string ifName)
    {
        Span<byte> v = stackalloc byte[36];
        v.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(v, ETHTOOL_GCHANNELS);
        IoctlCalls.InterfaceDataIoctl(socketFd, IoctlCalls.SIOCETHTOOL, ifName, v, "ioctl(SIOCETHTOOL, ETHTOOL_GCHANNELS)",
            "the driver reports no channel (queue) configuration");
        return new Channels(U32(v, 1), U32(v, 2), U32(v, 3), U32(v, 4), U32(v, 5), U32(v, 6), U32(v, 7), U32(v, 8));
    }

    /// <summary>ETHTOOL_SCHANNELS (`ethtool -L`): sets the rx, tx, other and combined counts of <paramref name="c"/> (the
    /// kernel ignores the maximums); EOPNOTSUPP when the driver cannot change them, EINVAL for counts it refuses.</summary>
    public static void SetChannels(int socketFd, string ifName, Channels c)
    {
        Span<byte> v = stackalloc byte[36];
        ReadOnlySpan<uint> words = [ETHTOOL_SCHANNELS, c.MaxRx, c.MaxTx, c.MaxOther, c.MaxCombined, c.Rx, c.Tx, c.Other, c.Combined];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(v[(4 * i)..], words[i]);
        IoctlCalls.InterfaceDataIoctl(socketFd, IoctlCalls.SIOCETHTOOL, ifName, v, "ioctl(SIOCETHTOOL, ETHTOOL_SCHANNELS)");
    }

    private static uint U32(ReadOnlySpan<byte> s, int index) => BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * index)..]);
}
