namespace Appliance.Config;

/// <summary>One semantic check of a structurally valid config.</summary>
internal interface IConfigRule
{
    void Check(ApplianceConfig config, ConfigIssues issues);
}
