using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Host.Tests.Board;

/// <summary>One emulated board: image/qemu-board.sh booting an SD image file through U-Boot (or, as the fallback,
/// with -kernel from the image), its serial console on the process's stdin/stdout, its PL061 trace, and its two
/// Ethernet ports as UDP sockets on 127.0.0.1. Dispose powers the board off (or kills QEMU) and deletes every
/// temporary file.</summary>
public sealed class QemuBoard : IDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _sinceStart;

    public string WorkDir { get; }
    public SerialConsole Console { get; }

    /// <summary>eth0 and eth1 of the board, seen from the host.</summary>
    public IReadOnlyList<UdpBoardPort> Ports { get; }

    public string ConsoleLogPath => Path.Combine(WorkDir, "console.log");
    public string QmpSocket => Path.Combine(WorkDir, "qmp.sock");

    /// <summary>Plugs or unplugs the cable of port <paramref name="index"/> (QMP set_link on netdev n0/n1): the
    /// guest sees carrier go down or up.</summary>
    public void SetLink(int index, bool up) =>
        QmpClient.Execute(QmpSocket, "set_link", $"{{\"name\":\"n{index}\",\"up\":{(up ? "true" : "false")}}}");
    public Pl061Trace Trace => new(Path.Combine(WorkDir, "pl061-trace.log"));
    public TimeSpan SinceStart => _sinceStart.Elapsed;

    public bool HasExited => _process.HasExited;

    /// <param name="image">the SD image file; with <paramref name="writable"/> false the guest's writes are discarded.</param>
    public QemuBoard(string image, string ubootEnvironment, bool writable = false, bool directKernel = false, TimeSpan? timeout = null)
    {
        BoardTools.Require();
        WorkDir = Directory.CreateTempSubdirectory("mapp-qemu-").FullName;
        var ports = new List<UdpBoardPort>();
        try
        {
            for (var i = 0; i < 2; i++) ports.Add(new UdpBoardPort($"eth{i}", FreeUdpPort()));
            Ports = ports;
            var psi = new ProcessStartInfo(Path.Combine(RepoPaths.Root, "image/qemu-board.sh"))
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            string[] args =
            [
                "--image", image, "--uboot-env", ubootEnvironment, "--workdir", WorkDir, "--console", "stdio",
                "--disk", writable ? "direct" : "snapshot",
                "--net0", $"{ports[0].GuestPort}:{ports[0].HostPort}", "--net1", $"{ports[1].GuestPort}:{ports[1].HostPort}",
                "--timeout", ((int)(timeout ?? TimeSpan.FromMinutes(4)).TotalSeconds).ToString(),
                .. directKernel ? new[] { "--direct-kernel" } : [],
            ];
            foreach (var a in args) psi.ArgumentList.Add(a);
            _sinceStart = Stopwatch.StartNew();
            _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start image/qemu-board.sh");
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) StdErr.Add(e.Data); };
            _process.BeginErrorReadLine();
            Console = new SerialConsole(_process.StandardOutput, _process.StandardInput);
        }
        catch
        {
            foreach (var p in ports) p.Dispose();
            Directory.Delete(WorkDir, recursive: true);
            throw;
        }
    }

    /// <summary>Lines the harness script printed on stderr (QEMU errors, timeout notices).</summary>
    public List<string> StdErr { get; } = [];

    /// <summary>Waits for the init's READY marker and returns the host-side time since QEMU started.</summary>
    public TimeSpan WaitUntilReady(TimeSpan timeout)
    {
        Console.WaitFor(@"^MAPP: READY uptime=", timeout);
        return SinceStart;
    }

    /// <summary>Clean power-off from the console (stops the appliance, unmounts /boot, PSCI off); kills QEMU if it
    /// has not exited within <paramref name="timeout"/>. Returns true for a clean power-off.</summary>
    public bool PowerOff(TimeSpan timeout)
    {
        if (_process.HasExited) return false;
        try { Console.Type("appliance-poweroff test-harness"); }
        catch (IOException) { }
        if (_process.WaitForExit(timeout)) return true;
        Kill();
        return false;
    }

    /// <summary>Stops the machine at once (QMP quit), for boards with no console shell (meta-appliance as PID 1).</summary>
    public void Quit()
    {
        if (_process.HasExited) return;
        try { QmpClient.Execute(QmpSocket, "quit"); }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException) { }
        if (!_process.WaitForExit(10_000)) Kill();
    }

    private void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        if (!_process.HasExited) PowerOff(TimeSpan.FromSeconds(15));
        Kill();
        _process.Dispose();
        foreach (var p in Ports) p.Dispose();
        try { Directory.Delete(WorkDir, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>A currently free UDP port on 127.0.0.1 (bound and released; QEMU binds it right after).</summary>
    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
