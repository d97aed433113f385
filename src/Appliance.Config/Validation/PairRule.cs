namespace Appliance.Config;

/// <summary>A pair's uplink exists, its rooms, learn limit and tenant MTU are in range, its tenant names are usable and its
/// tenant interface is its own; an L2 tenant lists each service it serves once (an L3 tenant serves none: it is routed,
/// no host of the LAN takes it for its router or DHCP server).</summary>
internal sealed class PairRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        var ports = config.Ports.Select(p => p.Name).ToList();
        var portSet = ports.ToHashSet(StringComparer.Ordinal);
        var tenantInterfaces = new Dictionary<(string, string), int>();
        for (int i = 0; i < config.Pairs.Count; i++)
        {
            var pair = config.Pairs[i];
            string at = $"$.pairs[{i}]";
            if (!portSet.Contains(pair.Uplink))
                issues.AddUnknownReference($"{at}.uplink", $"unknown port \"{pair.Uplink}\" ({NameList.ExpectedOneOf(ports, "ports")})", pair.Uplink, "$.ports");
            RangeCheck.Check(pair.Headroom, 0, ConfigLimits.MaxRoom, $"{at}.headroom", "headroom", issues);
            RangeCheck.Check(pair.Tailroom, 0, ConfigLimits.MaxRoom, $"{at}.tailroom", "tailroom", issues);
            RangeCheck.Check(pair.LearnLimit, 0, ConfigLimits.MaxLearnLimit, $"{at}.learnLimit", "learnLimit", issues);

            var tenant = pair.Tenant;
            if (NameSyntax.NameProblem(tenant.Netns, 255) is { } netnsProblem) issues.Add($"{at}.tenant.netns", netnsProblem);
            if (NameSyntax.InterfaceNameProblem(tenant.Interface) is { } ifProblem) issues.Add($"{at}.tenant.interface", ifProblem);
            RangeCheck.Check(tenant.Mtu, ConfigLimits.MinMtu, ConfigLimits.MaxMtu, $"{at}.tenant.mtu", "mtu", issues);
            if (tenant.Mac is MacAddress mac) UnicastMac.Check(mac, $"{at}.tenant.mac", issues);
            if (!tenantInterfaces.TryAdd((tenant.Netns, tenant.Interface), i))
                issues.Add($"{at}.tenant.interface",
                    $"interface \"{tenant.Interface}\" in netns \"{tenant.Netns}\" is already the tenant of $.pairs[{tenantInterfaces[(tenant.Netns, tenant.Interface)]}]");
            if (pair.Mode == PairMode.L3 && tenant.Addresses.Count == 0)
                issues.Add($"{at}.tenant.addresses", "an l3 pair needs at least one address: the appliance routes to the tenant by its prefixes");
            CheckServes(pair, $"{at}.tenant.serves", issues);
        }
    }

    private static void CheckServes(PairConfig pair, string at, ConfigIssues issues)
    {
        var serves = pair.Tenant.Serves;
        if (serves.Count == 0) return;
        if (pair.Mode == PairMode.L3)
        {
            issues.Add(at, "serves is for l2 tenants: an l3 tenant is routed, no host of the LAN takes it for its router or DHCP server (leave serves out)");
            return;
        }
        var names = EnumNames.Of(typeof(TenantService), ConfigJsonContext.Default.TenantService);
        var first = new Dictionary<TenantService, int>();
        for (int i = 0; i < serves.Count; i++)
            if (!first.TryAdd(serves[i], i))
                issues.Add($"{at}[{i}]", $"\"{names[(int)serves[i]]}\" is already listed at {at}[{first[serves[i]]}]; list each service once");
    }
}
