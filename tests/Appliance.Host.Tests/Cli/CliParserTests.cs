using Appliance.Host.Cli;
using Xunit;

namespace Appliance.Host.Tests.Cli;

/// <summary>The one parser every verb uses, on a small verb definition.</summary>
public sealed class CliParserTests
{
    private static readonly CliVerb Verb = new("demo", "a verb for tests")
    {
        Arguments = [new("ACTION", "what") { Choices = ["add", "del"] }, new("NAME", "who") { Optional = true }],
        Options =
        [
            new("--json", "flag"),
            new("--mode", "choice") { Value = "MODE", Choices = ["a", "b"] },
            new("--count", "number") { Value = "N", Forwarded = true },
            new("--yes", "excludes --no") { Excludes = "--no" },
            new("--no", "excludes --yes") { Excludes = "--yes" },
        ],
    };

    private static (bool Ok, int Exit, string Out, string Err, CliArgs Args) Parse(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        bool ok = CliParser.TryParse(Verb, args, stdout, stderr, out var parsed, out int exit);
        return (ok, exit, stdout.ToString(), stderr.ToString(), parsed);
    }

    [Fact]
    public void OptionsFlagsAndPositionalsInAnyOrder()
    {
        var r = Parse("--mode=b", "add", "--json", "x", "--count", "3");
        Assert.True(r.Ok, r.Err);
        Assert.Equal("b", r.Args.Value("--mode"));
        Assert.True(r.Args.Has("--json"));
        Assert.False(r.Args.Has("--yes"));
        Assert.Equal(["add", "x"], r.Args.Positionals);
        Assert.Equal(["add", "x", "--count", "3"], r.Args.Forward); // forwarded options keep their place, others do not
    }

    [Fact]
    public void DoubleDashEndsOptionsAndNegativeNumbersArePositionals()
    {
        Assert.Equal(["add", "--json"], Parse("add", "--", "--json").Args.Positionals);
        Assert.Equal(["del", "-5"], Parse("del", "-5").Args.Positionals);
    }

    [Fact]
    public void HelpAnywhereBeforeDoubleDashPrintsTheVerbsHelp()
    {
        var r = Parse("add", "--bogus", "-h");
        Assert.False(r.Ok);
        Assert.Equal(0, r.Exit);
        Assert.StartsWith("usage: meta-appliance demo add|del [NAME] [--json] [--mode a|b] [--count N] [--yes] [--no]\n", r.Out);
        Assert.Contains("--mode a|b", r.Out);
        Assert.Empty(r.Err);
    }

    [Theory]
    [InlineData(new string[0], "ACTION is missing")]
    [InlineData(new[] { "put" }, "ACTION is add or del, not 'put'")]
    [InlineData(new[] { "add", "x", "y" }, "unexpected argument 'y' (at most 2 arguments)")]
    [InlineData(new[] { "add", "--mode" }, "--mode needs MODE")]
    [InlineData(new[] { "add", "--mode", "c" }, "--mode takes a or b, not 'c'")]
    [InlineData(new[] { "add", "--json=1" }, "--json takes no value")]
    [InlineData(new[] { "add", "--verbose" }, "unknown option '--verbose'")]
    [InlineData(new[] { "add", "--no", "--yes" }, "--no and --yes exclude each other")]
    public void BadUsageNamesTheProblemAndExitsTwo(string[] args, string problem)
    {
        var r = Parse(args);
        Assert.False(r.Ok);
        Assert.Equal(2, r.Exit);
        Assert.Empty(r.Out);
        Assert.Equal($"meta-appliance demo: {problem}\n{Verb.Usage}\n", r.Err.ReplaceLineEndings("\n"));
    }
    /// <summary>A required option is a plain part of the usage (a usage that brackets it says it may be left out) and the
    /// parser refuses a command line without it, in the words of the synopsis.</summary>
    [Fact]
    public void ARequiredOptionIsUnbracketedInTheUsageAndMissingItIsAUsageError()
    {
        var verb = new CliVerb("need", "a verb with a required option")
        {
            Options = [new("--config", "the file") { Value = "FILE", Required = true }, new("--json", "flag")],
        };
        Assert.Equal("usage: meta-appliance need --config FILE [--json]", verb.Usage);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Assert.False(CliParser.TryParse(verb, ["--json"], stdout, stderr, out _, out int exit));
        Assert.Equal(2, exit);
        Assert.Equal($"meta-appliance need: --config FILE is required\n{verb.Usage}\n", stderr.ToString().ReplaceLineEndings("\n"));
        Assert.True(CliParser.TryParse(verb, ["--config=a.json"], stdout, stderr, out var parsed, out _));
        Assert.Equal("a.json", parsed.Value("--config"));
        Assert.False(CliParser.TryParse(verb, ["--help"], stdout, new StringWriter(), out _, out exit));
        Assert.Equal(0, exit);
    }

    [Theory]
    [InlineData("run", "--config FILE")]
    [InlineData("replay", "--config FILE")]
    [InlineData("capture", "--out FILE")]
    [InlineData("forward", "--in IF")]
    [InlineData("forward", "--out IF")]
    public void TheVerbsSayWhichOptionsTheyNeed(string name, string option)
    {
        var verb = CommandLine.Verbs.Single(v => v.Name == name);
        Assert.Contains($" {option}", verb.Usage);
        Assert.DoesNotContain($"[{option}]", verb.Usage);
        var problem = Assert.Throws<CliUsageException>(() => CliParser.Parse(verb, name switch
        {
            "forward" => [option == "--in IF" ? "--out" : "--in", "x"],
            "run" => [],
            _ => ["x"],
        }));
        Assert.Equal($"{option} is required", problem.Message);
    }

    /// <summary>The appliance parses what a client forwarded with the same definition: capture's --out stays with the
    /// client (it writes the file), so the appliance's side does not ask for it; a forwarded required option it would.</summary>
    [Fact]
    public void TheAppliancesSideDoesNotAskForARequiredOptionTheClientKeeps()
    {
        var capture = CommandLine.Verbs.Single(v => v.Name == "capture");
        var a = CliParser.Parse(capture, ["tenant-a", "--side", "primary"], forwarded: true);
        Assert.Equal("primary", a.Value("--side"));
        Assert.Throws<CliUsageException>(() => CliParser.Parse(capture, ["tenant-a", "--side", "primary"]));
    }
}
