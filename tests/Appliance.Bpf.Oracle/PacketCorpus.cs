namespace Appliance.Bpf.Oracle;

/// <summary>A deterministic mix of frames for differential runs: IPv4/IPv6 TCP/UDP (some to the ports and
/// addresses the tests put in maps), VLAN-tagged, ARP, ICMP, IPv4 fragments and options, a bad IHL,
/// odd lengths, and truncated frames. Kernel 6.18's BPF_PROG_TEST_RUN refuses (EINVAL) SCHED_CLS frames
/// shorter than an Ethernet header, and untagged IPv4/IPv6 frames whose network header is cut, so
/// truncation starts after those headers for untagged IP frames (tagged ones are cut anywhere from 14).</summary>
public static class PacketCorpus
{
    public static readonly ushort[] Ports = [22, 53, 80, 443, 8080];
    public static readonly byte[][] Addresses4 = [[10, 0, 0, 1], [10, 0, 0, 2], [10, 1, 2, 3], [10, 2, 3, 4], [192, 168, 1, 7], [172, 16, 0, 9]];

    public static List<(string Name, byte[] Frame)> Generate(int count, int seed)
    {
        var rng = new Random(seed);
        var list = new List<(string, byte[])>(count);
        for (int i = 0; i < count; i++)
        {
            int kind = rng.Next(12);
            byte[] src4 = Pick(rng, Addresses4), dst4 = Pick(rng, Addresses4);
            ushort sport = (ushort)rng.Next(1024, 65535);
            ushort dport = rng.Next(4) == 0 ? (ushort)rng.Next(1, 65535) : Pick(rng, Ports);
            int payload = rng.Next(0, 300) | (rng.Next(2) == 0 ? 1 : 0); // plenty of odd lengths
            ushort? vlan = rng.Next(6) == 0 ? Vlan(rng) : null;
            (string name, byte[] frame) = kind switch
            {
                0 or 1 => ("ipv4-tcp", PacketBuilder.Ipv4(PacketBuilder.Tcp, src4, dst4, sport, dport, payload, vlan)),
                2 or 3 => ("ipv4-udp", PacketBuilder.Ipv4(PacketBuilder.Udp, src4, dst4, sport, dport, payload, vlan)),
                4 => ("ipv6-tcp", PacketBuilder.Ipv6(PacketBuilder.Tcp, Ip6(rng), Ip6(rng), sport, dport, payload, vlan)),
                5 => ("ipv6-udp", PacketBuilder.Ipv6(PacketBuilder.Udp, Ip6(rng), Ip6(rng), sport, dport, payload, vlan)),
                6 => ("arp", PacketBuilder.Arp()),
                7 => ("ipv4-icmp", PacketBuilder.Ipv4(PacketBuilder.Icmp, src4, dst4, 0, 0, payload, vlan)),
                8 => ("ipv4-fragment", PacketBuilder.Ipv4(PacketBuilder.Udp, src4, dst4, sport, dport, payload, vlan, fragment: 0x0010)),
                9 => ("ipv4-options", PacketBuilder.Ipv4(PacketBuilder.Tcp, src4, dst4, sport, dport, payload, vlan, ihl: 6)),
                10 => ("ipv4-bad-ihl", PacketBuilder.Ipv4(PacketBuilder.Udp, src4, dst4, sport, dport, payload, vlan, ihl: 3)),
                _ => ("ipv4-udp-vlan", PacketBuilder.Ipv4(PacketBuilder.Udp, src4, dst4, sport, dport, payload, Vlan(rng))),
            };
            int shortest = MinimumKernelLength(frame);
            if (rng.Next(5) == 0 && frame.Length > shortest)
            {
                frame = frame[..rng.Next(shortest, frame.Length)];
                name += "-truncated";
            }
            list.Add(($"{i}:{name}{(vlan is null ? "" : "+vlan")}/{frame.Length}", frame));
        }
        return list;
    }

    /// <summary>The shortest prefix of <paramref name="frame"/> the kernel test run accepts.</summary>
    public static int MinimumKernelLength(byte[] frame)
    {
        int type = frame[12] << 8 | frame[13];
        return type switch
        {
            PacketBuilder.EthIp => 14 + Math.Max(20, (frame[14] & 0xf) * 4),
            PacketBuilder.EthIpv6 => 14 + 40,
            _ => 14,
        };
    }

    /// <summary>A VLAN id: half of them 100, vlan_tag's default vlan_id, so its vlan_untag takes some tags off (any
    /// other id it drops), the rest any id.</summary>
    private static ushort Vlan(Random rng) => rng.Next(2) == 0 ? (ushort)100 : (ushort)rng.Next(1, 4095);

    private static T Pick<T>(Random rng, T[] items) => items[rng.Next(items.Length)];

    private static byte[] Ip6(Random rng)
    {
        var a = new byte[16];
        a[0] = 0xfd;
        a[15] = (byte)rng.Next(1, 5);
        return a;
    }
}
