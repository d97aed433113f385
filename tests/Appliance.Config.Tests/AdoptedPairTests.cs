namespace Appliance.Config.Tests;

/// <summary>pairs[].primaryInterface: adopting an existing veth.</summary>
public class AdoptedPairTests
{
    private const string TenantA = "\"tenant\": { \"netns\": \"ns-a\", \"interface\": \"eth0\", \"mac\": \"02:00:00:00:0a:02\", \"addresses\": [\"10.0.1.2/24\"] },";

    private static string AdoptA(string primary, string tenant = "\"tenant\": { \"netns\": \"ns-a\", \"interface\": \"eth0\" },") =>
        ConfigTexts.With(TenantA, $"{tenant}\n      \"primaryInterface\": {primary},");

    [Fact]
    public void AnAdoptedPairLoadsWithItsPrimaryInterface()
    {
        var result = ConfigTexts.Load(AdoptA("\"veth-a\""));
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal("veth-a", result.Config!.Pairs[0].PrimaryInterface);
        Assert.Null(result.Config.Pairs[1].PrimaryInterface);
        Assert.Empty(ConfigSchema.Errors(AdoptA("\"veth-a\"")));
    }

    [Fact]
    public void AnAdoptedPrimaryMustNotBeAPortOrAnotherPairsEnd()
    {
        var port = Assert.Single(ConfigTexts.Load(AdoptA("\"eth1\"")).Errors);
        Assert.Equal("$.pairs[0].primaryInterface", port.JsonPath);
        Assert.Contains("is a port", port.Message);

        var other = Assert.Single(ConfigTexts.Load(AdoptA("\"tenant-b\"")).Errors);
        Assert.Equal("$.pairs[0].primaryInterface", other.JsonPath);
        Assert.Contains("already the primary end of $.pairs[1]", other.Message);

        var bad = Assert.Single(ConfigTexts.Load(AdoptA("\"much-too-long-name\"")).Errors);
        Assert.Equal("$.pairs[0].primaryInterface", bad.JsonPath);
    }

    [Fact]
    public void AnAdoptedTenantIsUsedAsItIs()
    {
        var errors = ConfigTexts.Load(AdoptA("\"veth-a\"", TenantA)).Errors;
        Assert.Equal(["$.pairs[0].tenant.mac", "$.pairs[0].tenant.addresses"], errors.Select(e => e.JsonPath).ToArray());
    }
}
