namespace Appliance.Config;

/// <summary>Runs every semantic rule over a structurally valid config and collects all issues.</summary>
public static class ConfigValidator
{
    private static readonly IConfigRule[] Rules =
    [
        new NameRule(), new HostSettingsRule(), new MemoryRule(), new ButtonRule(), new PortRule(), new PairRule(), new AdoptedPairRule(),
        new AddressRule(), new ChainRule(), new ProgramRule(), new LedRule(),
    ];

    public static ConfigIssues Validate(ApplianceConfig config)
    {
        var issues = new ConfigIssues();
        foreach (var rule in Rules) rule.Check(config, issues);
        return issues;
    }
}
