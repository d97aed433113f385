using System.Buffers.Binary;
using System.Net.NetworkInformation;
using Appliance.Interop;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Links;

/// <summary>A snapshot of one interface, as an RTM_NEWLINK message describes it.</summary>
/// <param name="Index">ifindex (unique within its network namespace only).</param>
/// <param name="Name">Interface name (IFLA_IFNAME).</param>
/// <param name="Mac">Hardware address, or null for devices without one.</param>
/// <param name="Mtu">MTU in bytes.</param>
/// <param name="Flags">net_device flags (IFF_*), see <see cref="NetlinkRoute"/>.</param>
/// <param name="OperState">Operational state (IFLA_OPERSTATE).</param>
/// <param name="Carrier">Whether the device has carrier (IFLA_CARRIER).</param>
/// <param name="Alias">IFLA_IFALIAS, where the appliance stores its owner tag; null when unset.</param>
/// <param name="Kind">Link kind from IFLA_LINKINFO ("veth", "bridge"...), null for physical devices.</param>
/// <param name="PeerIndex">IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace); 0 if none.</param>
/// <param name="RxQueues">Number of RX queues (IFLA_NUM_RX_QUEUES).</param>
/// <param name="TxQueues">Number of TX queues (IFLA_NUM_TX_QUEUES).</param>
/// <param name="Xdp">Attached XDP programs.</param>
public sealed record LinkInfo(int Index, string Name, PhysicalAddress? Mac, int Mtu, uint Flags, LinkOperState OperState,
    bool Carrier, string? Alias, string? Kind, int PeerIndex, int RxQueues, int TxQueues, LinkXdpState Xdp)
{
    /// <summary>Administratively up (IFF_UP).</summary>
    public bool IsUp => (Flags & IFF_UP) != 0;

    /// <summary>Parses an RTM_NEWLINK/RTM_DELLINK payload (ifinfomsg + attributes).</summary>
    public static LinkInfo Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < IfInfoSize)
            throw new FormatException($"link message of {payload.Length} bytes is shorter than ifinfomsg");
        int index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string name = "";
        PhysicalAddress? mac = null;
        int mtu = 0, peer = 0, rxq = 0, txq = 0;
        var oper = LinkOperState.Unknown;
        bool carrier = (flags & IFF_LOWER_UP) != 0;
        string? alias = null, kind = null;
        var xdp = LinkXdpState.None;

        var reader = new NetlinkAttributeReader(payload[IfInfoSize..]);
        while (reader.TryRead(out var type, out var value))
        {
            switch (type)
            {
                case IFLA_IFNAME: name = NetlinkValue.String(value); break;
                case IFLA_ADDRESS: mac = value.Length == 0 ? null : new PhysicalAddress(value.ToArray()); break;
                case IFLA_MTU: mtu = NetlinkValue.S32(value); break;
                case IFLA_OPERSTATE: oper = (LinkOperState)NetlinkValue.U8(value); break;
                case IFLA_CARRIER: carrier = NetlinkValue.U8(value) != 0; break;
                case IFLA_IFALIAS: alias = NetlinkValue.String(value); break;
                case IFLA_LINK: peer = NetlinkValue.S32(value); break;
                case IFLA_NUM_RX_QUEUES: rxq = NetlinkValue.S32(value); break;
                case IFLA_NUM_TX_QUEUES: txq = NetlinkValue.S32(value); break;
                case IFLA_XDP: xdp = LinkXdpState.Parse(value); break;
                case IFLA_LINKINFO: kind = ParseKind(value); break;
            }
        }
        return new LinkInfo(index, name, mac, mtu, flags, oper, carrier, string.IsNullOrEmpty(alias) ? null : alias,
            kind, peer, rxq, txq, xdp);
    }

    private static string? ParseKind(ReadOnlySpan<byte> linkInfo)
    {
        var reader = new NetlinkAttributeReader(linkInfo);
        while (reader.TryRead(out var type, out var value))
            if (type == IFLA_INFO_KIND) return NetlinkValue.String(value);
        return null;
    }
}
