using System.Diagnostics;
using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>The published `meta-appliance forward` running inside a namespace (`ip netns exec`), with its output
/// collected line by line. Killed on Dispose if still alive.</summary>
public sealed class ForwardProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [], _stderr = [];
    private readonly string _readyLine;

    public int Pid => _process.Id;

    public ForwardProcess(string netns, string inIf, string outIf)
    {
        _readyLine = $"READY-test-{Guid.NewGuid():N}";
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", netns, Binary, "forward", "--in", inIf, "--out", outIf, "--ready-line", _readyLine })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ip netns exec");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The NativeAOT binary published by build.sh (META_APPLIANCE_OUT/linux-x64), else ./out of the checkout.</summary>
    public static string Binary
    {
        get
        {
            var bin = Path.Combine(Repository.Out, "linux-x64", "meta-appliance");
            if (!File.Exists(bin))
                throw new FileNotFoundException($"{bin} not found: publish it first (./build.sh publish) or set META_APPLIANCE_OUT", bin);
            return bin;
        }
    }

    public string StdOut { get { lock (_stdout) return string.Join('\n', _stdout); } }
    public string StdErr { get { lock (_stderr) return string.Join('\n', _stderr); } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the ready line; throws with the output if the process exits or times out first.</summary>
    public void WaitReady(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!StdOut.Contains(_readyLine))
        {
            if (_process.HasExited) throw new InvalidOperationException($"forward exited {_process.ExitCode} before ready:\n{StdOut}\n{StdErr}");
            if (sw.Elapsed > timeout) throw new TimeoutException($"forward not ready after {timeout.TotalSeconds} s:\n{StdOut}\n{StdErr}");
            Thread.Sleep(20);
        }
    }

    /// <summary>Waits for exit; false on timeout.</summary>
    public bool WaitExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit(); // drain the output readers
        return true;
    }

    public void Signal(string signal) => Shell.Check("kill", $"-{signal}", _process.Id.ToString());

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
