using System.Diagnostics;

namespace Appliance.TestSupport;

/// <summary>Runs a command (no shell), captures its output, and fails loudly with both streams.</summary>
public static class Shell
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(string file, params string[] args) => RunWithTimeout(TimeSpan.FromMinutes(5), file, args);

    public static Result RunWithTimeout(TimeSpan timeout, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and asserts exit code 0.</summary>
    public static string Check(string file, params string[] args)
    {
        var r = Run(file, args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited {r.ExitCode}\nstdout: {r.StdOut}\nstderr: {r.StdErr}");
        return r.StdOut;
    }
}
