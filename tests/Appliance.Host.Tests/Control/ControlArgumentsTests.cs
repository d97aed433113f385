using Appliance.Host.Commands;
using Appliance.Host.Control;
using Xunit;

namespace Appliance.Host.Tests.Control;

/// <summary>The appliance parses what a control verb's client forwarded with the same verb definition and
/// <see cref="Cli.CliParser"/>: choices, values and unknown options are refused with the verb's synopsis.</summary>
public sealed class ControlArgumentsTests
{
    [Theory]
    [InlineData("pairs", new[] { "attach", "p", "sideways", "x" }, "SIDE is primary or peer, not 'sideways'; usage: pairs ")]
    [InlineData("pairs", new[] { "attach", "p", "peer", "x", "--before" }, "--before needs P; usage: pairs ")]
    [InlineData("maps", new[] { "erase", "m" }, "ACTION is list, dump, update or delete, not 'erase'; usage: maps ")]
    [InlineData("reload", new[] { "--confirm" }, "--confirm needs SECONDS; usage: reload ")]
    [InlineData("reload", new[] { "--force" }, "unknown option '--force'; usage: reload ")]
    [InlineData("leds", new[] { "dim" }, "STATE is on or off, not 'dim'; usage: leds [on|off]")]
    public void BadArgumentsAreRefusedWithTheVerbsSynopsis(string verb, string[] args, string expected)
    {
        var definition = ControlVerbs.All.Single(v => v.Name == verb);
        Assert.StartsWith(expected, Assert.Throws<ArgumentException>(() => ControlArguments.Parse(definition, args)).Message);
    }

    [Fact]
    public void ValuesAndNegativeNumbersComeThroughAsTheClientSentThem()
    {
        var a = ControlArguments.Parse(ControlVerbs.Maps, ["update", "prog/hits", "-1", "0a000001"]);
        Assert.Equal(["update", "prog/hits", "-1", "0a000001"], a.Positionals);
        var r = ControlArguments.Parse(ControlVerbs.Reload, ["--confirm", "2.5", "--dry-run"]);
        Assert.Equal(("2.5", true), (r.Value("--confirm"), r.Has("--dry-run")));
        var p = ControlArguments.Parse(ControlVerbs.Pairs, ["attach", "t", "peer", "x", "--after", "y", "--expected-revision", "7"]);
        Assert.Equal(("y", "7"), (p.Value("--after"), p.Value("--expected-revision")));
    }
}
