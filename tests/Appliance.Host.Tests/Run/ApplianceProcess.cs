using System.Diagnostics;
using System.Text;

namespace Appliance.Host.Tests.Run;

/// <summary>The published binary running `meta-appliance run --config FILE` in the foreground: started, waited for
/// until it prints its ready line (the readiness signal), stopped with a signal. Its stdout and stderr are kept for
/// failure messages. Dispose kills it if it is still running.</summary>
public sealed class ApplianceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly ManualResetEventSlim _ready = new(false);

    public string Socket { get; }

    private ApplianceProcess(Process process, string socket)
    {
        _process = process;
        Socket = socket;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ApplianceProcess Start(string configFile, string socket, params string[] extraArgs) =>
        Start([RepoPaths.Binary("linux-x64"), "run", "--config", configFile, "--socket", socket, .. extraArgs], socket, new Dictionary<string, string>());

    /// <summary>Any command line (program first) whose control socket is <paramref name="socket"/>, with extra environment.</summary>
    public static ApplianceProcess Start(IReadOnlyList<string> commandLine, string socket, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(commandLine[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in commandLine.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var p = new Process { StartInfo = psi };
        var ap = new ApplianceProcess(p, socket);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (ap._stdout) ap._stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("meta-appliance: forwarding", StringComparison.Ordinal)) ap._ready.Set();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (ap._stderr) ap._stderr.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return ap;
    }

    public void WaitReady(int timeoutMs = 30000)
    {
        if (_ready.Wait(timeoutMs)) return;
        throw new TimeoutException($"meta-appliance did not print its ready line in {timeoutMs} ms (exited: {_process.HasExited})\n{Output}");
    }

    public string Output
    {
        get
        {
            lock (_stdout) lock (_stderr) return $"stdout:\n{_stdout}\nstderr:\n{_stderr}";
        }
    }

    public string StdErr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>Waits until stderr holds <paramref name="text"/> (lines arrive asynchronously, after stdout's ready
    /// line or a file the process wrote); false after <paramref name="timeoutMs"/>.</summary>
    public bool StdErrShows(string text, int timeoutMs = 20000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!StdErr.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    /// <summary>Sends a signal (SIGTERM 15, SIGINT 2, SIGKILL 9) and waits for the exit; returns the exit code.</summary>
    public int Signal(int signal, int timeoutMs = 20000)
    {
        Tmds.Linux.LibC.kill(_process.Id, signal);
        if (!_process.WaitForExit(timeoutMs)) throw new TimeoutException($"meta-appliance did not exit {timeoutMs} ms after signal {signal}\n{Output}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Tmds.Linux.LibC.kill(_process.Id, 15);
            if (!_process.WaitForExit(20000)) _process.Kill();
        }
        _process.Dispose();
        _ready.Dispose();
    }
}
