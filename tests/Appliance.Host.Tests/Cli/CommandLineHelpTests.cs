using System.Text.RegularExpressions;
using Appliance.Host.Cli;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Cli;

/// <summary>Every verb answers --help from its definition; the man page and the completion script come from the
/// same table and pass real tools (groff's warnings, bash).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CommandLineHelpTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CommandLineCapture.Run(args);

    public static TheoryData<string> VerbNames() => [.. CommandLine.Verbs.Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(VerbNames))]
    public void EveryVerbAnswersHelp(string name)
    {
        var verb = CommandLine.Verbs.Single(v => v.Name == name);
        foreach (var flag in new[] { "--help", "-h" })
        {
            var (code, stdout, stderr) = Run(name, flag);
            Assert.Equal(0, code);
            Assert.Empty(stderr);
            Assert.StartsWith($"usage: meta-appliance {name}", stdout);
            foreach (var o in verb.Options) Assert.Contains(o.Synopsis, stdout);
            foreach (var a in verb.Arguments) Assert.Contains(a.Synopsis, stdout);
        }
        var (helpCode, helpOut, _) = Run("help", name);
        Assert.Equal(0, helpCode);
        Assert.Equal(Run(name, "--help").Out, helpOut);
    }

    [Fact]
    public void TheOverviewListsEveryVisibleVerb()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var v in CommandLine.Verbs)
            Assert.Equal(!v.Hidden, Regex.IsMatch(stdout, $@"^  {v.Name} ", RegexOptions.Multiline));
        var (none, _, stderr) = Run();
        Assert.Equal(2, none);
        Assert.Contains("usage: meta-appliance COMMAND", stderr);
    }

    [Fact]
    public void RunTakesItsOptionsThroughTheSharedParser()
    {
        var (code, _, stderr) = Run("run", "--xdp-mode", "turbo");
        Assert.Equal(2, code);
        Assert.StartsWith("meta-appliance run: --xdp-mode takes auto, native or generic, not 'turbo'\nusage: meta-appliance run ", stderr.ReplaceLineEndings("\n"));
        (code, _, stderr) = Run("run");
        Assert.Equal(2, code);
        Assert.Contains("--config FILE is required", stderr);
    }

    [Fact]
    public void TheManPageRendersWithoutGroffWarningsAndDocumentsEveryVerb()
    {
        var (code, page, _) = Run("--man");
        Assert.Equal(0, code);
        var file = Path.Combine(Path.GetTempPath(), $"mapp-man-{Environment.ProcessId}.8");
        File.WriteAllText(file, page);
        try
        {
            var groff = Shell.Run("groff", "-man", "-Tutf8", "-ww", "-z", file);
            Assert.True(groff.ExitCode == 0 && groff.StdErr.Length == 0, groff.StdErr);
            var text = Regex.Replace(Shell.Run("groff", "-man", "-Tascii", "-P-c", "-P-b", "-P-u", file).StdOut, @"\s+", " ");
            foreach (var v in CommandLine.Verbs)
            {
                Assert.True(!v.Hidden == text.Contains($"meta-appliance {v.Name}"), $"{v.Name} (hidden {v.Hidden}) in\n{text}");
                if (!v.Hidden) foreach (var o in v.Options) Assert.Contains(o.Name, text);
            }
        }
        finally { File.Delete(file); }
    }

    /// <summary>The generated script in a real bash: COMP_WORDS as bash sets them, COMPREPLY printed.</summary>
    internal static string[] Complete(string script, string? path, params string[] words)
    {
        var file = Path.Combine(Path.GetTempPath(), $"mapp-completion-{Environment.ProcessId}-{Guid.NewGuid():N}.bash");
        File.WriteAllText(file, script);
        try
        {
            string quoted = string.Join(' ', words.Select(w => $"'{w}'"));
            string body = $"{(path is null ? "" : $"PATH='{path}':$PATH; ")}source '{file}'; COMP_WORDS=(meta-appliance {quoted}); " +
                          $"COMP_CWORD={words.Length}; _meta_appliance; printf '%s\\n' \"${{COMPREPLY[@]}}\"";
            var r = Shell.Run("bash", "-c", body);
            Assert.True(r.ExitCode == 0, r.StdErr);
            return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void BashCompletesVerbsOptionsAndChoices()
    {
        var (code, script, _) = Run("completion", "bash");
        Assert.Equal(0, code);
        var verbs = Complete(script, null, "");
        Assert.Equal(CommandLine.Verbs.Where(v => !v.Hidden).Select(v => v.Name).Order(), verbs.Where(w => !w.StartsWith('-')).Order());
        Assert.Equal(["--json"], Complete(script, null, "validate", "--j"));
        Assert.Equal(["native"], Complete(script, null, "run", "--xdp-mode", "n"));
        Assert.Equal(["attach"], Complete(script, null, "pairs", "att"));
        Assert.Equal(["peer", "primary"], Complete(script, null, "pairs", "attach", "p1", "p").Order());
        Assert.Equal(["dump"], Complete(script, null, "maps", "--socket", "/x", "du"));
        Assert.DoesNotContain("forward", verbs); // hidden
    }
}
