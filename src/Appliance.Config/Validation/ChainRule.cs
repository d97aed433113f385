namespace Appliance.Config;

/// <summary>
/// Chains name known programs, at most 63 each, a program at most once per chain (bpf_mprog refuses
/// duplicates), and a program's section fits the side: "netkit/peer" only on peer, "netkit/primary" only on primary.
/// </summary>
internal sealed class ChainRule : IConfigRule
{
    public const string PeerSection = "netkit/peer", PrimarySection = "netkit/primary";

    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        var programs = config.Programs.GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        for (int i = 0; i < config.Pairs.Count; i++)
        {
            CheckSide(config.Pairs[i].Primary, $"$.pairs[{i}].primary", "primary", PrimarySection, programs, issues);
            CheckSide(config.Pairs[i].Peer, $"$.pairs[{i}].peer", "peer", PeerSection, programs, issues);
        }
    }

    private static void CheckSide(PairSideConfig side, string at, string sideName, string ownSection,
                                  Dictionary<string, ProgramConfig> programs, ConfigIssues issues)
    {
        if (side.Chain.Count > PairSideConfig.MaxChainLength)
            issues.Add($"{at}.chain", $"chain has {side.Chain.Count} programs; at most {PairSideConfig.MaxChainLength} per side (bpf_mprog limit)");
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < side.Chain.Count; k++)
        {
            string name = side.Chain[k].Program;
            string path = $"{at}.chain[{k}].program";
            if (!programs.TryGetValue(name, out var program))
            {
                issues.AddUnknownReference(path, $"unknown program \"{name}\" ({NameList.ExpectedOneOf(programs.Keys, "programs")})", name, "$.programs");
                continue;
            }
            if (!seen.TryAdd(name, k))
                issues.Add(path, $"program \"{name}\" is already in this chain at {at}.chain[{seen[name]}]; a program runs at most once per side");
            if (program.Section is PeerSection or PrimarySection && program.Section != ownSection)
                issues.Add(path, $"program \"{name}\" is section \"{program.Section}\" and cannot run on the {sideName} side; use a \"{ownSection}\" or \"tc\" program here");
        }
    }
}
