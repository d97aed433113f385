namespace Appliance.Config;

/// <summary>Names are well formed and unique per kind; pair names differ from port names (LED "activity:NAME" means either).</summary>
internal sealed class NameRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        if (string.IsNullOrWhiteSpace(config.Board)) issues.Add("$.board", "board is empty; expected a board profile name like \"qemu-virt\"");
        else Report(issues, "$.board", NameSyntax.NameProblem(config.Board, ConfigLimits.MaxName), "a board profile is a folder name under board/, e.g. \"qemu-virt\"");
        for (int i = 0; i < config.Ports.Count; i++)
            Report(issues, $"$.ports[{i}].name", NameSyntax.InterfaceNameProblem(config.Ports[i].Name), "a port is a Linux interface name");
        for (int i = 0; i < config.Pairs.Count; i++)
            Report(issues, $"$.pairs[{i}].name", NameSyntax.InterfaceNameProblem(config.Pairs[i].Name), "the primary end carries the pair's name");
        for (int i = 0; i < config.Programs.Count; i++)
            Report(issues, $"$.programs[{i}].name", NameSyntax.NameProblem(config.Programs[i].Name, ConfigLimits.MaxName), null);
        for (int i = 0; i < config.Leds.Lines.Count; i++)
            Report(issues, $"$.leds.lines[{i}].name", NameSyntax.NameProblem(config.Leds.Lines[i].Name, ConfigLimits.MaxName), null);

        UniqueNames.Check(config.Ports, p => p.Name, "$.ports", "port", issues);
        UniqueNames.Check(config.Pairs, p => p.Name, "$.pairs", "pair", issues);
        UniqueNames.Check(config.Programs, p => p.Name, "$.programs", "program", issues);
        UniqueNames.Check(config.Leds.Lines, l => l.Name, "$.leds.lines", "LED", issues);

        var portNames = config.Ports.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < config.Pairs.Count; i++)
            if (portNames.Contains(config.Pairs[i].Name))
                issues.Add($"$.pairs[{i}].name", $"pair name \"{config.Pairs[i].Name}\" is also a port name; give the pair its own name");
    }

    private static void Report(ConfigIssues issues, string path, string? problem, string? why)
    {
        if (problem is not null) issues.Add(path, why is null ? problem : $"{problem} ({why})");
    }
}
