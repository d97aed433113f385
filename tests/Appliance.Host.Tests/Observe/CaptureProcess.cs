using System.Diagnostics;
using System.Text;

namespace Appliance.Host.Tests.Observe;

/// <summary>`meta-appliance capture ...` from the published binary, running beside an appliance: started, waited for
/// until it says "capturing on" (the appliance accepted it), stopped with SIGINT like Ctrl-C.</summary>
public sealed class CaptureProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly ManualResetEventSlim _capturing = new(false);

    private CaptureProcess(Process process) => _process = process;

    public static CaptureProcess Start(string socket, params string[] args)
    {
        var psi = new ProcessStartInfo(RepoPaths.Binary("linux-x64")) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])["capture", .. args, "--socket", socket]) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var cp = new CaptureProcess(p);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (cp._stderr) cp._stderr.AppendLine(e.Data);
            if (e.Data.Contains("capturing on", StringComparison.Ordinal)) cp._capturing.Set();
        };
        p.Start();
        p.BeginErrorReadLine();
        if (!cp._capturing.Wait(20000))
            throw new TimeoutException($"capture did not start (exited: {p.HasExited}): {cp.StdErr}");
        return cp;
    }

    public string StdErr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>SIGINT (Ctrl-C), then the exit code.</summary>
    public int Interrupt()
    {
        Tmds.Linux.LibC.kill(_process.Id, 2);
        if (!_process.WaitForExit(20000)) throw new TimeoutException("capture did not exit after SIGINT: " + StdErr);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Reads its standard output to the end (a test that left it unread until now, like a paused pager), then
    /// its exit code and how many bytes it wrote.</summary>
    public (int ExitCode, long OutputBytes) ReadOutputToEnd()
    {
        var sink = new MemoryStream();
        _process.StandardOutput.BaseStream.CopyTo(sink);
        if (!_process.WaitForExit(20000)) throw new TimeoutException("capture did not exit after its output ended: " + StdErr);
        _process.WaitForExit();
        return (_process.ExitCode, sink.Length);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
        _capturing.Dispose();
    }
}
