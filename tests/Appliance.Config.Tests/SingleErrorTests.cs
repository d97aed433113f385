namespace Appliance.Config.Tests;

/// <summary>Each malformed variant of the valid config gives its error at the exact line, column and path, with the exact message.</summary>
public class SingleErrorTests
{
    [Fact]
    public void TheBaseConfigIsValid()
    {
        var result = ConfigTexts.Load(ConfigTexts.Valid);
        Assert.Empty(result.Errors);
        Assert.True(result.IsValid);
    }

    [Theory]
    [MemberData(nameof(SingleErrorCases.Structure), MemberType = typeof(SingleErrorCases))]
    [MemberData(nameof(SingleErrorCases.Meaning), MemberType = typeof(SingleErrorCases))]
    public void EditGivesLocatedError(string name, string from, string to, string marker, string focus, string path, string message, int count)
    {
        string text = ConfigTexts.With(from, to);
        var result = ConfigTexts.Load(text);

        var (line, column) = ConfigTexts.At(text, marker, focus);
        var expected = new ConfigError(ConfigTexts.FileName, line, column, path, message);
        Assert.False(result.IsValid, name);
        Assert.Null(result.Config);
        Assert.Contains(expected, result.Errors);
        Assert.Equal(count, result.Errors.Count);
    }

    [Fact]
    public void ErrorFormatsAsFileLineColumnPathMessage()
    {
        string text = ConfigTexts.With("\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("config.json:11:17: $.pairs[0].uplink: unknown port \"eth9\" (expected one of: eth0, eth1)", error.ToString());
    }
}
