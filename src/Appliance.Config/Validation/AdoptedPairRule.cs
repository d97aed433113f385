namespace Appliance.Config;

/// <summary>An adopted pair (<see cref="PairConfig.PrimaryInterface"/>) names a usable interface that no port or
/// other pair uses, and leaves the tenant's interface as it is: no MAC or addresses to set (an l3 pair's addresses are
/// the prefixes routed to it, not set on the interface).</summary>
internal sealed class AdoptedPairRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        var ports = config.Ports.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var primaries = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < config.Pairs.Count; i++)
            if (config.Pairs[i].PrimaryInterface is null) primaries.TryAdd(config.Pairs[i].Name, i);
        for (int i = 0; i < config.Pairs.Count; i++)
        {
            var pair = config.Pairs[i];
            if (pair.PrimaryInterface is not { } primary) continue;
            string at = $"$.pairs[{i}]";
            if (NameSyntax.InterfaceNameProblem(primary) is { } problem)
            {
                issues.Add($"{at}.primaryInterface", $"{problem} (the adopted primary end is a Linux interface)");
                continue;
            }
            if (ports.Contains(primary))
                issues.Add($"{at}.primaryInterface", $"\"{primary}\" is a port; an adopted primary end must be the appliance's end of a veth, not a port");
            else if (!primaries.TryAdd(primary, i))
                issues.Add($"{at}.primaryInterface", $"\"{primary}\" is already the primary end of $.pairs[{primaries[primary]}]");
            if (pair.Tenant.Mac is not null)
                issues.Add($"{at}.tenant.mac", "an adopted pair's tenant interface is used as it is; remove mac (its MAC is read from the interface)");
            if (pair.Tenant.Addresses.Count > 0 && pair.Mode == PairMode.L2)
                issues.Add($"{at}.tenant.addresses", "an adopted pair's tenant interface is used as it is; remove addresses (configure them where the veth was made)");
        }
    }
}
