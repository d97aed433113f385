using System.Net.Sockets;
using Appliance.Host.Control;
using Appliance.Host.Tests.Run;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Control;

/// <summary>The locked control socket, with the published binary as both the appliance and the client, and a
/// non-root client run as <c>nobody</c> (uid 65534) through setpriv.</summary>
[Collection(KernelCollection.Name)]
public sealed class ControlSocketSecurityTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0660 = Mode0600 | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    private const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                          | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode0666 = Mode0660 | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    private static readonly string[] Verbs = ["status", "stats", "pairs", "programs", "maps", "reload", "leds"];

    private static Shell.Result Cli(string socket, string verb, params string[] setprivArgs) =>
        setprivArgs.Length == 0
            ? Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), verb, "--socket", socket)
            : Shell.RunWithTimeout(TimeSpan.FromSeconds(30), "setpriv", [.. setprivArgs, RepoPaths.Binary("linux-x64"), verb, "--socket", socket]);

    private static UnixFileMode ModeOf(string path) => (UnixFileMode)FileSecurity.Owner(path).Mode;

    private static readonly string[] Nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];

    private static uint UsersGroup => FileSecurity.GroupId("users") ?? throw new InvalidOperationException("Debian's group 'users' is missing");

    /// <summary>A started <see cref="ControlServer"/> (for <c>controlGroup</c> <paramref name="group"/> when given) that
    /// answers status with "running", on control.sock in a temporary folder of its own made 0755 (nobody must reach
    /// the socket's folder); Dispose stops the server and deletes the folder.</summary>
    private sealed class TestServer : IDisposable
    {
        private readonly string _folder;
        private readonly ControlServer _server;

        public TestServer(string folderPrefix, string? group = null)
        {
            _folder = Directory.CreateTempSubdirectory(folderPrefix).FullName;
            try
            {
                FileSecurity.Chmod(_folder, Mode0755);
                Socket = Path.Combine(_folder, "control.sock");
                _server = new ControlServer(Socket, group is null ? null : ControlAccess.For(group));
                _server.Register("status", _ => ControlResponse.Success("running"));
                _server.Start();
            }
            catch
            {
                Directory.Delete(_folder, recursive: true);
                throw;
            }
        }

        public string Socket { get; }

        public void Dispose()
        {
            _server.Dispose();
            Directory.Delete(_folder, recursive: true);
        }
    }

    [PrivilegedFact]
    public void UnderUmask000TheSocketIsRootsAloneAndTenThousandHostileRequestsNeverStopForwarding()
    {
        using var board = new RunBoard();
        board.WriteConfig("pass");
        // In folders that do not exist yet: the appliance makes them 0755, whatever the umask.
        string socket = Path.Combine(board.Folder, "run", "ctl", "control.sock");
        // Under umask 000 (sh -c 'umask 000 && exec …': the PID is the appliance's).
        using var app = ApplianceProcess.Start(["/bin/sh", "-c", "umask 000 && exec \"$0\" \"$@\"", RepoPaths.Binary("linux-x64"),
            "run", "--config", board.ConfigFile, "--socket", socket], socket, new Dictionary<string, string>());
        app.WaitReady();
        int pid = app.Pid;
        Assert.True(board.TenantPings(), "the tenant pings before\n" + app.Output);

        Assert.Equal(Mode0600, ModeOf(socket));
        Assert.Equal(0u, FileSecurity.Owner(socket).Uid);
        Assert.Equal(Mode0755, ModeOf(Path.Combine(board.Folder, "run")));
        Assert.Equal(Mode0755, ModeOf(Path.Combine(board.Folder, "run", "ctl")));
        Assert.Equal(0, Cli(socket, "status").ExitCode);

        // A non-root user: the file mode stops it at connect, for every verb.
        foreach (var verb in Verbs)
        {
            var r = Cli(socket, verb, Nobody);
            Assert.True(r.ExitCode == 1, $"{verb} as nobody: exit {r.ExitCode}\n{r.StdOut}{r.StdErr}");
            Assert.Contains("permission denied", r.StdErr, StringComparison.OrdinalIgnoreCase);
        }
        // Behind the file mode, the peer credentials: with the file opened up, nobody connects and is refused.
        FileSecurity.Chmod(socket, Mode0666);
        foreach (var verb in Verbs)
        {
            var r = Cli(socket, verb, Nobody);
            Assert.True(r.ExitCode == 1, $"{verb} as nobody on a 0666 socket: exit {r.ExitCode}\n{r.StdOut}{r.StdErr}");
            Assert.Contains("permission denied: uid 65534 is not root", r.StdErr);
        }
        FileSecurity.Chmod(socket, Mode0600);

        // A silent client does not hold the others up: status is answered while it still waits.
        using (var silent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            silent.Connect(new UnixDomainSocketEndPoint(socket));
            Assert.Equal(0, Cli(socket, "status").ExitCode);
            Assert.False(silent.Poll(0, SelectMode.SelectRead), "the silent client already got its answer: the status request waited for it");
        }

        int answered = 0;
        foreach (var request in HostileRequests.Generate(10_000, seed: 9))
        {
            var answer = HostileRequests.Send(socket, request);
            Assert.False(answer.Ok, $"request {answered} was accepted: {System.Text.Encoding.UTF8.GetString(request)}");
            Assert.False(string.IsNullOrEmpty(answer.Error), $"request {answered} got an error without a message");
            answered++;
        }
        Assert.Equal(10_000, answered);

        Assert.False(app.HasExited, app.Output);
        Assert.Equal(pid, app.Pid);
        Assert.Equal(0, Cli(socket, "status").ExitCode);
        Assert.True(board.TenantPings(), "the tenant pings after the hostile requests\n" + app.Output);
        Assert.Equal(0, app.Signal(15));
    }

    [PrivilegedFact]
    public void WithAControlGroupTheSocketIs0660AndItsMembersMayUseIt()
    {
        uint users = UsersGroup;
        using var server = new TestServer("mapp-ctlgrp-", "users");
        string socket = server.Socket;

        Assert.Equal(Mode0660, ModeOf(socket));
        Assert.Equal(users, FileSecurity.Owner(socket).Gid);
        // nobody with "users" as a supplementary group: allowed (the kernel's record of the connect, SO_PEERGROUPS).
        var member = Cli(socket, "status", "--reuid=65534", "--regid=65534", $"--groups={users}");
        Assert.True(member.ExitCode == 0, member.StdErr);
        Assert.Equal("running", member.StdOut.Trim());
        // ... or as its primary group.
        Assert.Equal(0, Cli(socket, "status", "--reuid=65534", $"--regid={users}", "--clear-groups").ExitCode);
        // Not a member: the file refuses, and behind it the server does.
        Assert.Contains("permission denied", Cli(socket, "status", Nobody).StdErr, StringComparison.OrdinalIgnoreCase);
        FileSecurity.Chmod(socket, Mode0666);
        Assert.Contains("permission denied: uid 65534 is neither root nor in group \"users\"", Cli(socket, "status", Nobody).StdErr);
    }

    [PrivilegedFact]
    public void GroupMembershipIsWhatTheClientHadWhenItConnected()
    {
        uint users = UsersGroup;
        using var server = new TestServer("mapp-ctlgrp-late-", "users");
        string socket = server.Socket;
        FileSecurity.Chmod(socket, Mode0666); // past the file mode: the server's own check is under test
        // uid 65534 keeping CAP_SETGID (ambient): it connects in no group, joins "users" and then asks. Its groups
        // now (/proc/PID/status) say member; the kernel's record of the connect says not.
        const string Script = "import json, os, socket, sys\n"
                              + "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])\n"
                              + "os.setgroups([int(sys.argv[2])])\n"
                              + "s.sendall(b'{\"verb\":\"status\",\"args\":[]}\\n'); print(os.getgroups(), s.makefile().readline())\n";
        var late = Shell.RunWithTimeout(TimeSpan.FromSeconds(30), "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+setgid", "--ambient-caps=+setgid",
             "/usr/bin/python3", "-c", Script, socket, users.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(late.ExitCode == 0, late.StdErr);
        Assert.Contains($"[{users}]", late.StdOut); // it did join the group
        Assert.Contains("permission denied: uid 65534 is neither root nor in group", late.StdOut); // the JSON escapes the quotes
    }

    [PrivilegedFact]
    public void TheSocketsGroupAndModeAreSetOnTheBoundSocketNeverOnWhatReplacedIt()
    {
        string folder = Directory.CreateTempSubdirectory("mapp-ctlswap-").FullName;
        try
        {
            uint users = UsersGroup;
            string victim = Path.Combine(folder, "victim");
            File.WriteAllText(victim, "secret");
            FileSecurity.Chmod(victim, Mode0600);
            string socket = Path.Combine(folder, "control.sock");
            using (var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                bound.Bind(new UnixDomainSocketEndPoint(socket));
                FileSecurity.SetSocketAccess(socket, users, Mode0660);
                Assert.Equal(Mode0660, ModeOf(socket));
                Assert.Equal(users, FileSecurity.Owner(socket).Gid);

                // What someone who can write the folder does between bind and chmod: the socket becomes a link to
                // another file, then another file. Both are refused and the victim keeps its owner and mode.
                File.Delete(socket);
                File.CreateSymbolicLink(socket, victim);
                var link = Assert.Throws<InvalidOperationException>(() => FileSecurity.SetSocketAccess(socket, users, Mode0666));
                Assert.Contains("is no longer the socket this process bound (file type 120000", link.Message);
                File.Delete(socket);
                File.WriteAllText(socket, "not a socket");
                var replaced = Assert.Throws<InvalidOperationException>(() => FileSecurity.SetSocketAccess(socket, users, Mode0666));
                Assert.Contains("is no longer the socket this process bound (file type 100000", replaced.Message);
            }
            Assert.Equal(Mode0600, ModeOf(victim));
            Assert.Equal(0u, FileSecurity.Owner(victim).Gid);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AnUnknownControlGroupIsAClearError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ControlAccess.For("no-such-group-mapp"));
        Assert.Contains("control group \"no-such-group-mapp\" does not exist", e.Message);
    }

    /// <summary>Fills every connection slot of the server at <paramref name="socket"/> with a client that sends nothing
    /// (added to <paramref name="silent"/>, which the caller disposes).</summary>
    private static void FillEveryConnectionSlot(string socket, List<Socket> silent)
    {
        for (int i = 0; i < ControlServer.MaxConnections; i++)
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            silent.Add(s);
            s.Connect(new UnixDomainSocketEndPoint(socket));
        }
    }

    [PrivilegedFact]
    public void SlowClientsAreBoundedAndTheServerStaysAvailable()
    {
        using var server = new TestServer("mapp-ctlslow-");
        string socket = server.Socket;
        var silent = new List<Socket>();
        try
        {
            FillEveryConnectionSlot(socket, silent);
            // One more is told the server is busy instead of waiting.
            var busy = HostileRequests.Send(socket, "{\"verb\":\"status\"}\n"u8.ToArray());
            Assert.False(busy.Ok);
            Assert.Contains("busy", busy.Error);
            // The silent ones get a timeout answer, then the server answers again.
            var buffer = new byte[1024];
            silent[0].ReceiveTimeout = 30000;
            int n = silent[0].Receive(buffer);
            Assert.Contains("no complete request line within 5 s", System.Text.Encoding.UTF8.GetString(buffer, 0, n));
            foreach (var s in silent) s.Dispose();
            silent.Clear();
            ControlResponse? answer = null;
            for (int i = 0; i < 100 && answer is not { Ok: true }; i++)
            {
                answer = ControlClient.Send(socket, new ControlRequest("status", []));
                if (!answer.Ok) Thread.Sleep(50); // the slots free as their threads finish
            }
            Assert.True(answer!.Ok, answer.Error);
            // An oversized request gets a clear error.
            var huge = HostileRequests.Send(socket, System.Text.Encoding.UTF8.GetBytes(new string('x', ControlServer.MaxRequestBytes + 10) + "\n"));
            Assert.Contains("request larger than 64 KiB", huge.Error);
        }
        finally
        {
            foreach (var s in silent) s.Dispose();
        }
    }

    /// <summary>The CLI prints the appliance's "busy" answer and exits 1: the appliance answers and closes before it
    /// takes the request, so the client's send can fail (EPIPE) with the answer already waiting to be read (it aborted
    /// with an unhandled SocketException, exit 134). A request larger than the server takes is refused by the client
    /// before it sends it (three 130 KB arguments filled the socket's buffer and the send failed the same way).</summary>
    [PrivilegedFact]
    public void TheCliReportsABusyApplianceAndAnOversizedRequestAsErrors()
    {
        using var server = new TestServer("mapp-ctlbusy-");
        string socket = server.Socket;
        var silent = new List<Socket>();
        try
        {
            FillEveryConnectionSlot(socket, silent);
            for (int i = 0; i < 5; i++)
            {
                var r = Cli(socket, "status");
                Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}: {r.StdErr}");
                Assert.Contains("busy: 16 control connections are open", r.StdErr);
                Assert.DoesNotContain("Unhandled exception", r.StdErr);
            }
        }
        finally
        {
            foreach (var s in silent) s.Dispose();
        }
        string big = new('1', 130_000);
        var huge = Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), "maps", "update", big, big, big, "--socket", socket);
        Assert.True(huge.ExitCode == 1, $"exit {huge.ExitCode}: {huge.StdErr[..Math.Min(500, huge.StdErr.Length)]}");
        Assert.Contains("request larger than 64 KiB", huge.StdErr);
        var direct = ControlClient.Send(socket, new ControlRequest("maps", ["update", big, big, big]));
        Assert.False(direct.Ok);
        Assert.Contains("request larger than 64 KiB", direct.Error);
        ControlResponse? answer = null;
        for (int i = 0; i < 100 && answer is not { Ok: true }; i++)
        {
            answer = ControlClient.Send(socket, new ControlRequest("status", []));
            if (!answer.Ok) Thread.Sleep(50); // the slots free as their threads finish
        }
        Assert.True(answer!.Ok, answer.Error);
    }
}
