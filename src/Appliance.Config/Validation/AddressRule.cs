using System.Runtime.InteropServices;
using System.Net.Sockets;

namespace Appliance.Config;

/// <summary>
/// No MAC is claimed twice (tenants and ports), no IP address is given twice, and no two l3 pairs on one
/// uplink route the same prefix, nor more than <see cref="ConfigLimits.MaxL3PrefixesPerUplink"/> of a family; IPv4 host addresses are not a subnet's network or broadcast address. An l3
/// tenant's addresses are routable (the appliance's L3 router never routes a packet from a martian source) and
/// its prefixes are not /0 (that would route every address on the uplink, the board's own included, to it).
/// </summary>
internal sealed class AddressRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        CheckMacs(config, issues);
        CheckAddresses(config, issues);
    }

    private static void CheckMacs(ApplianceConfig config, ConfigIssues issues)
    {
        var owner = new Dictionary<MacAddress, string>();
        for (int i = 0; i < config.Ports.Count; i++)
            if (config.Ports[i].Mac is MacAddress mac && !owner.TryAdd(mac, $"$.ports[{i}].mac"))
                issues.Add($"$.ports[{i}].mac", $"MAC {mac} is already claimed by {owner[mac]}");
        for (int i = 0; i < config.Pairs.Count; i++)
            if (config.Pairs[i].Tenant.Mac is MacAddress mac && !owner.TryAdd(mac, $"$.pairs[{i}].tenant.mac"))
                issues.Add($"$.pairs[{i}].tenant.mac", $"MAC {mac} is already claimed by {owner[mac]}; every tenant needs its own MAC");
    }

    private static void CheckAddresses(ApplianceConfig config, ConfigIssues issues)
    {
        var addressOwner = new Dictionary<System.Net.IPAddress, string>();
        var l3Routes = new Dictionary<(string Uplink, InterfaceAddress Network), string>();
        var l3Count = new Dictionary<(string Uplink, AddressFamily Family), int>();
        for (int i = 0; i < config.Pairs.Count; i++)
        {
            var pair = config.Pairs[i];
            for (int j = 0; j < pair.Tenant.Addresses.Count; j++)
            {
                var address = pair.Tenant.Addresses[j];
                string path = $"$.pairs[{i}].tenant.addresses[{j}]";
                if (!addressOwner.TryAdd(address.Address, path))
                    issues.Add(path, $"address {address.Address} is already claimed by {addressOwner[address.Address]}");
                CheckHostPart(address, path, issues);
                if (pair.Mode != PairMode.L3) continue;
                if (!l3Routes.TryAdd((pair.Uplink, address.Network), path))
                    issues.Add(path, $"prefix {address.Network} on uplink \"{pair.Uplink}\" is already routed to {l3Routes[(pair.Uplink, address.Network)]}; two l3 pairs cannot claim one prefix");
                else if (++CollectionsMarshal.GetValueRefOrAddDefault(l3Count, (pair.Uplink, address.Address.AddressFamily), out _) == ConfigLimits.MaxL3PrefixesPerUplink + 1)
                    issues.Add(path, $"this is l3 prefix {ConfigLimits.MaxL3PrefixesPerUplink + 1} of {(address.Address.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} on uplink \"{pair.Uplink}\": the port's XDP steering holds {ConfigLimits.MaxL3PrefixesPerUplink} per family (the board's own addresses inside them included)");
                if (Unroutable(address.Address) is string what)
                    issues.Add(path, $"{address.Address} is {what}: an l3 tenant's packets from it are never routed (they are dropped as invalidSource); give the tenant a routable address");
                else if (address.PrefixLength == 0)
                    issues.Add(path, $"{address} would route every address on uplink \"{pair.Uplink}\" to this tenant, the board's own and its neighbours' included; give the tenant a prefix of its own");
            }
        }
    }

    /// <summary>What kind of martian <paramref name="address"/> is (<see cref="MartianAddress"/>: the sources the L3
    /// router refuses), or null for a routable one.</summary>
    private static string? Unroutable(System.Net.IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        bool v4 = length == 4;
        return MartianAddress.Of(bytes[..length]) switch
        {
            MartianKind.ThisNetwork => "in 0.0.0.0/8 (this network)",
            MartianKind.Unspecified => "the unspecified address",
            MartianKind.Loopback => v4 ? "a loopback address" : "the loopback address",
            MartianKind.LinkLocal => v4 ? "link-local (169.254.0.0/16)" : "link-local (fe80::/10)",
            MartianKind.Multicast => v4 ? "multicast or reserved (224.0.0.0/3)" : "multicast (ff00::/8)",
            _ => null,
        };
    }

    private static void CheckHostPart(InterfaceAddress address, string path, ConfigIssues issues)
    {
        if (address.Address.AddressFamily != AddressFamily.InterNetwork || address.PrefixLength > 30) return;
        byte[] bytes = address.Address.GetAddressBytes();
        uint value = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        uint hostMask = address.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - address.PrefixLength)) - 1;
        if ((value & hostMask) == 0)
            issues.Add(path, $"{address} is the network address of {address.Network}; give the tenant a host address such as {Host(value | 1)}/{address.PrefixLength}");
        else if ((value & hostMask) == hostMask)
            issues.Add(path, $"{address} is the broadcast address of {address.Network}; give the tenant a host address such as {Host((value & ~hostMask) | 1)}/{address.PrefixLength}");
    }

    private static string Host(uint value) => $"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}";
}
