using System.Diagnostics;
using Appliance.Bpf.Assembly;
using Xunit;

namespace Appliance.Bpf.Tests.Conformance;

/// <summary>Runs the conformance plugin executable as bpf_conformance's runner does: the vector's memory as the
/// first argument, plugin options after it, the program as base16 bytes on stdin.</summary>
internal static class PluginProcess
{
    /// <summary>The result of one invocation; <paramref name="launcher"/> (e.g. qemu-aarch64-static with its
    /// arguments) runs the plugin when given.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(string plugin, string stdin, IEnumerable<string> args,
        string[]? launcher = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(launcher?[0] ?? plugin)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in (launcher is null ? [] : launcher[1..].Append(plugin)).Concat(args)) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.WriteLine(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(600_000), $"{plugin} did not exit");
        return (process.ExitCode, stdout.Result, stderr);
    }

    /// <summary>Runs <paramref name="vector"/>; null when r0 is the expected result, else what went wrong.</summary>
    public static string? Check(ConformanceVector vector, string plugin, bool jit, string[]? launcher = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ulong[] program = vector.Raw ?? BpfAssembler.Assemble(vector.Assembly);
        string hex = string.Join(' ', program.SelectMany(BitConverter.GetBytes).Select(b => b.ToString("x2")));
        var args = new List<string>();
        if (vector.Memory is { } memory) args.Add(Convert.ToHexString(memory).ToLowerInvariant());
        if (jit) args.Add("--jit");
        var (exit, stdout, stderr) = Run(plugin, hex, args, launcher, environment);
        if (exit != 0) return $"exit {exit}: {stderr.Trim()}";
        ulong r0 = Convert.ToUInt64(stdout.Trim()[2..], 16);
        return r0 == vector.ExpectedResult ? null : $"r0 = 0x{r0:x}, expected 0x{vector.ExpectedResult:x}";
    }
}
