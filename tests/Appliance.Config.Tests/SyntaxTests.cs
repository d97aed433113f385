namespace Appliance.Config.Tests;

/// <summary>JSON syntax: what is accepted on purpose (comments, trailing commas) and what gives one located error.</summary>
public class SyntaxTests
{
    private static ConfigError Only(string text)
    {
        var result = ConfigTexts.Load(text);
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void LineAndBlockCommentsAreAccepted()
    {
        string text = "// edited on a PC\n" + ConfigTexts.With("\"board\": \"qemu-virt\",", "\"board\": /* the emulated board */ \"qemu-virt\", // see board/");
        Assert.True(ConfigTexts.Load(text).IsValid);
    }

    [Fact]
    public void TrailingCommasAreAccepted()
    {
        string text = ConfigTexts.With("{ \"name\": \"eth1\", \"unclaimed\": \"drop\", \"mtu\": 1500 }\n  ],", "{ \"name\": \"eth1\", \"unclaimed\": \"drop\", \"mtu\": 1500, },\n  ],");
        Assert.True(ConfigTexts.Load(text).IsValid);
    }

    [Fact]
    public void TruncatedFile()
    {
        string text = ConfigTexts.Valid[..ConfigTexts.Valid.IndexOf("\"programs\"", StringComparison.Ordinal)];
        Assert.Equal(new ConfigError("config.json", 24, 3, "$", "unexpected end of file: an object or array is not closed (file truncated?)"), Only(text));
    }

    [Fact]
    public void TruncatedInsideString()
    {
        string text = ConfigTexts.Valid[..(ConfigTexts.Valid.IndexOf("tenant-b", StringComparison.Ordinal) + 3)];
        Assert.Equal(new ConfigError("config.json", 18, 19, "$.pairs[1].name", "unexpected end of file inside a string (file truncated?)"), Only(text));
    }

    [Fact]
    public void UnterminatedBlockComment()
    {
        string text = ConfigTexts.With("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", /* note");
        Assert.Equal(new ConfigError("config.json", 2, 25, "$", "unexpected end of file inside a /* comment (close it with */)"), Only(text));
    }

    [Fact]
    public void DoubleComma()
    {
        string text = ConfigTexts.With("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\",,");
        Assert.Equal(new ConfigError("config.json", 2, 24, "$", "invalid JSON: ',' is an invalid start of a property name. Expected a '\"'"), Only(text));
    }

    [Fact]
    public void MissingComma()
    {
        string text = ConfigTexts.With("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\"");
        Assert.Equal(new ConfigError("config.json", 3, 3, "$", "invalid JSON: '\"' is invalid after a value. Expected either ',', '}', or ']'"), Only(text));
    }

    [Fact]
    public void SingleQuotedString()
    {
        string text = ConfigTexts.With("\"board\": \"qemu-virt\"", "\"board\": 'qemu-virt'");
        Assert.Equal(new ConfigError("config.json", 2, 12, "$.board", "invalid JSON: ''' is an invalid start of a value"), Only(text));
    }

    [Fact]
    public void NaNLiteral() =>
        Assert.Equal(new ConfigError("config.json", 1, 24, "$.mtu", "invalid JSON: 'N' is an invalid start of a value"), Only("{ \"board\": \"x\", \"mtu\": NaN }"));

    [Fact]
    public void InvalidEscape() =>
        Assert.Equal(new ConfigError("config.json", 1, 15, "$.board", "invalid JSON: 'q' is an invalid escapable character within a JSON string. The string should be correctly escaped"), Only("{ \"board\": \"a\\qb\" }"));

    [Fact]
    public void LoneSurrogateEscape() =>
        Assert.Equal(new ConfigError("config.json", 1, 12, "$.board", "invalid string: it escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF come in pairs); write the character itself"), Only("{ \"board\": \"\\ud800\" }"));

    [Fact]
    public void RawControlCharacterInString() =>
        Assert.Equal(new ConfigError("config.json", 1, 14, "$.board", "invalid JSON: '0x09' is invalid within a JSON string. The string should be correctly escaped"), Only("{ \"board\": \"a\tb\" }"));

    /// <summary>A bad literal is quoted short and on one line, however far it runs (the JSON reader quotes it to the next
    /// delimiter: a 100 KB run of letters made a 100 KB error line; found by fuzzing).</summary>
    [Fact]
    public void LongBadLiteralIsQuotedShortOnOneLine()
    {
        var e = Only("{ \"board\": tx" + new string('a', 100_000) + "\n\"x\" }");
        Assert.Equal((1, 13, "$.board"), (e.Line, e.Column, e.JsonPath));
        Assert.StartsWith("invalid JSON: 'txaaaa", e.Message);
        Assert.Contains("…' is an invalid JSON literal", e.Message);
        Assert.True(e.Message.Length < 200, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TwoDocuments() =>
        Assert.Equal(new ConfigError("config.json", 1, 18, "$", "invalid JSON: '{' is invalid after a single JSON value. Expected end of data"), Only("{ \"board\": \"x\" } { }"));

    [Theory]
    [InlineData("[ { \"board\": \"x\" } ]", "expected an object, got an array")]
    [InlineData("42", "expected an object, got a number (42)")]
    [InlineData("\"qemu-virt\"", "expected an object, got a string (\"qemu-virt\")")]
    [InlineData("null", "expected an object, got null")]
    public void RootMustBeAnObject(string text, string message) =>
        Assert.Equal(new ConfigError("config.json", 1, 1, "$", message), Only(text));

    [Fact]
    public void DeepNestingIsCappedWithAClearError()
    {
        string text = "{ \"board\": \"x\", \"pairs\": " + new string('[', 40) + new string(']', 40) + " }";
        Assert.Equal(new ConfigError("config.json", 1, 57, "$.pairs" + string.Concat(Enumerable.Repeat("[0]", 31)),
            "nesting deeper than 32 levels; a config needs at most 6"), Only(text));
    }

    [Fact]
    public void VeryDeepNestingDoesNotOverflowTheStack()
    {
        string text = new string('[', 200_000) + new string(']', 200_000);
        Assert.Equal("nesting deeper than 32 levels; a config needs at most 6", Only(text).Message);
    }
}
