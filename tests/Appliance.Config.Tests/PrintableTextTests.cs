namespace Appliance.Config.Tests;

/// <summary>What a config holds is printed back in errors (names, quoted values, the file name): control characters
/// and bidirectional overrides in it must come out escaped, never raw on the user's terminal.</summary>
public class PrintableTextTests
{
    [Fact]
    public void ABoardNameIsANameAndItsErrorCarriesNoControlCharacter()
    {
        string text = ConfigTexts.Replace(ConfigTexts.Valid, "\"board\": \"qemu-virt\"", "\"board\": \"qemu\\u001b[2J\\nvirt\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.board", error.JsonPath);
        Assert.Equal("\"qemu\u001b[2J\nvirt\" contains '\u001b'; use letters, digits, '.', '_' and '-' (a board profile is a folder name under board/, e.g. \"qemu-virt\")", error.Message);
        string shown = error.ToString();
        Assert.DoesNotContain(shown, char.IsControl);
        Assert.EndsWith("$.board: \"qemu\\u001b[2J\\nvirt\" contains '\\u001b'; use letters, digits, '.', '_' and '-' (a board profile is a folder name under board/, e.g. \"qemu-virt\")", shown);
    }

    [Theory]
    [InlineData("\"mtu\": 1500", "\"mtu\": \"\\u001b]0;owned\\u0007\"")] // a quoted bad value
    [InlineData("\"name\": \"tenant-a\"", "\"name\": \"tenant\\u202e-a\"")] // a right-to-left override in a name
    [InlineData("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"x\\r\\u0085y\": 1,")] // an unknown member's name
    public void EveryErrorPrintsWithoutControlOrBidiCharacters(string from, string to)
    {
        var errors = ConfigTexts.Load(ConfigTexts.Replace(ConfigTexts.Valid, from, to)).Errors;
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Message.Any(PrintableText.NeedsEscape) || e.JsonPath.Any(PrintableText.NeedsEscape));
        foreach (var e in errors) Assert.DoesNotContain(e.ToString(), PrintableText.NeedsEscape);
    }

    [Fact]
    public void EscapeRewritesOnlyWhatNeedsIt()
    {
        const string clean = "tenant-a: \"10.0.0.2/24\" é ü \\n";
        Assert.Same(clean, PrintableText.Escape(clean));
        Assert.Equal("a\\n\\r\\t\\u001b[1m\\u007f\\u0085\\u2028\\u202e\\u2066b", PrintableText.Escape("a\n\r\t\u001b[1m\u007f\u0085\u2028\u202e\u2066b"));
    }

    [Fact]
    public void Quote_echoes_short_text_whole_and_long_text_cut_with_its_length()
    {
        Assert.Equal("'abc'", PrintableText.Quote("abc"));
        Assert.Equal("''", PrintableText.Quote(""));
        Assert.Equal("'a\\nb'", PrintableText.Quote("a\nb"));
        string exact = new('a', PrintableText.QuoteLimit);
        Assert.Equal($"'{exact}'", PrintableText.Quote(exact));
        Assert.Equal($"'{exact}…' (100000 characters)", PrintableText.Quote(new string('a', 100_000)));
        // A character outside the BMP across the cut is not halved.
        string astral = new string('a', PrintableText.QuoteLimit - 1) + "\U0001F600" + "tail";
        Assert.Equal($"'{new string('a', PrintableText.QuoteLimit - 1)}…' ({astral.Length} characters)", PrintableText.Quote(astral));
    }
}
