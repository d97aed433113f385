using System.Diagnostics;
using Appliance.TestSupport;

namespace Appliance.Host.Tests.Board;

/// <summary>One emulated board as its profile describes it (board/qemu-virt/board.env: BOARD_QEMU_SMP vCPUs,
/// BOARD_QEMU_QUEUES queues per port): image/qemu-board.sh booting an SD image file through U-Boot (or, as the
/// fallback, with -kernel from the image), its serial console on the process's stdin/stdout, its PL061 trace, and
/// its two Ethernet ports as multi-queue taps tap0/tap1 in a namespace of the test's own (QEMU runs inside it),
/// reached through AF_PACKET sockets there. Dispose powers the board off (or kills QEMU), deletes the namespace
/// (and the taps with it) and every temporary file.</summary>
public sealed class QemuBoard : IDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _sinceStart;

    public string WorkDir { get; }
    public SerialConsole Console { get; }

    /// <summary>eth0 and eth1 of the board, seen from the host.</summary>
    public IReadOnlyList<BoardPort> Ports { get; }

    /// <summary>The namespace holding the board's taps (and QEMU).</summary>
    public NetNamespace Network { get; }

    public string ConsoleLogPath => Path.Combine(WorkDir, "console.log");
    public string QmpSocket => Path.Combine(WorkDir, "qmp.sock");

    /// <summary>Plugs or unplugs the cable of port <paramref name="index"/> (QMP set_link on netdev n0/n1): the
    /// guest sees carrier go down or up.</summary>
    public void SetLink(int index, bool up) =>
        QmpClient.Execute(QmpSocket, "set_link", $"{{\"name\":\"n{index}\",\"up\":{(up ? "true" : "false")}}}");
    public Pl061Trace Trace => new(Path.Combine(WorkDir, "pl061-trace.log"));

    /// <summary>Holds PL061 input line <paramref name="line"/> at <paramref name="level"/> until the next call (QEMU's
    /// qtest `set_irq_in` on the PL061 device, found by its QOM type): a button pressed or released on the board.</summary>
    public void SetGpioInput(int line, bool level)
    {
        _pl061Path ??= FindPl061();
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.ReceiveTimeout = 10_000;
        socket.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(WorkDir, "qtest.sock")));
        using var stream = new System.Net.Sockets.NetworkStream(socket);
        using var reader = new StreamReader(stream);
        using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
        writer.WriteLine($"set_irq_in {_pl061Path} unnamed-gpio-in {line} {(level ? 1 : 0)}");
        var reply = reader.ReadLine();
        if (reply != "OK") throw new InvalidOperationException($"qtest set_irq_in on {_pl061Path} line {line}: '{reply}'");
    }

    private string? _pl061Path;

    /// <summary>The PL061's QOM path: the /machine/unattached child whose type is `child&lt;pl061&gt;` (its index moves with -smp).</summary>
    private string FindPl061()
    {
        var reply = QmpClient.Execute(QmpSocket, "qom-list", "{\"path\":\"/machine/unattached\"}");
        using var doc = System.Text.Json.JsonDocument.Parse(reply);
        var child = doc.RootElement.GetProperty("return").EnumerateArray()
            .FirstOrDefault(p => p.GetProperty("type").GetString() == "child<pl061>");
        if (child.ValueKind == System.Text.Json.JsonValueKind.Undefined) throw new InvalidOperationException($"no pl061 under /machine/unattached: {reply}");
        return "/machine/unattached/" + child.GetProperty("name").GetString();
    }
    public TimeSpan SinceStart => _sinceStart.Elapsed;

    public bool HasExited => _process.HasExited;

    /// <param name="image">the SD image file; with <paramref name="writable"/> false the guest's writes are discarded.</param>
    public QemuBoard(string image, string ubootEnvironment, bool writable = false, bool directKernel = false, TimeSpan? timeout = null)
    {
        BoardTools.Require();
        WorkDir = Directory.CreateTempSubdirectory("mapp-qemu-").FullName;
        Network = new NetNamespace("board");
        var ports = new List<BoardPort>();
        try
        {
            var psi = new ProcessStartInfo(Path.Combine(RepoPaths.Root, "image/qemu-board.sh"))
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            string[] args =
            [
                "--image", image, "--uboot-env", ubootEnvironment, "--workdir", WorkDir, "--console", "stdio",
                "--disk", writable ? "direct" : "snapshot", "--netns", Network.Name,
                "--timeout", ((int)(timeout ?? TimeSpan.FromMinutes(4)).TotalSeconds).ToString(),
                .. directKernel ? new[] { "--direct-kernel" } : [],
            ];
            foreach (var a in args) psi.ArgumentList.Add(a);
            _sinceStart = Stopwatch.StartNew();
            _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start image/qemu-board.sh");
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) StdErr.Add(e.Data); };
            _process.BeginErrorReadLine();
            Console = new SerialConsole(_process.StandardOutput, _process.StandardInput);
            // The script makes the taps before it starts QEMU.
            for (var i = 0; i < 2; i++) ports.Add(new BoardPort($"eth{i}", Network.Name, WaitForTap($"tap{i}")));
            Ports = ports;
        }
        catch
        {
            foreach (var p in ports) p.Dispose();
            if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
            Network.Dispose();
            Directory.Delete(WorkDir, recursive: true);
            throw;
        }
    }

    private string WaitForTap(string tap)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Network.TryExec("ip", "link", "show", tap).ExitCode != 0)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"image/qemu-board.sh made no {tap} in {Network.Name}: {string.Join('\n', StdErr)}");
            Thread.Sleep(100);
        }
        return tap;
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
        Network.Dispose();
        try { Directory.Delete(WorkDir, recursive: true); }
        catch (IOException) { }
    }
}
