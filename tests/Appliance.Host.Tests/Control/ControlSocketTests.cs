using Appliance.Host.Control;
using Xunit;

namespace Appliance.Host.Tests.Control;

/// <summary>The control socket over a real Unix socket in a temporary directory.</summary>
public sealed class ControlSocketTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-ctl-").FullName;
    private string SockPath => Path.Combine(_dir, "control.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A stream verb stuck in a send to a client that reads nothing (it does not look at stopping) ends with
    /// the server: Dispose shuts the connection of a stream that did not finish within its join. Before, the thread
    /// stayed in its send after Dispose, with whatever its verb held (a capture: the datapath's handlers).</summary>
    [Fact]
    public void AStreamStuckInASendToAClientThatReadsNothingEndsWithTheServer()
    {
        using var ended = new ManualResetEventSlim();
        var server = new ControlServer(SockPath);
        try
        {
            server.RegisterStream("flood", (_, client, _) =>
            {
                try
                {
                    ControlServer.WriteAnswer(client, ControlResponse.Success("flooding"));
                    var chunk = new byte[4096];
                    while (true) client.Send(chunk);
                }
                finally { ended.Set(); }
            });
            server.Start();
            using var reader = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            reader.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(SockPath));
            reader.Send("{\"verb\":\"flood\",\"args\":[]}\n"u8);
            // Until the server's sends block: what waits for this reader stops growing.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            for (int last = -1; reader.Available != last || last == 0; Thread.Sleep(200))
            {
                Assert.True(DateTime.UtcNow < deadline, "the stream never filled the connection");
                last = reader.Available;
            }
            Assert.False(ended.IsSet);

            server.Dispose();
            Assert.True(ended.IsSet, "the stream's thread is still in its send after the server stopped");
        }
        finally { server.Dispose(); }
    }

    [Fact]
    public void VerbIsAnsweredWithItsArguments()
    {
        using var server = new ControlServer(SockPath);
        server.Register("echo", r => ControlResponse.Success(string.Join("|", r.Args) + (r.Json ? " json" : "")));
        server.Start();
        var resp = ControlClient.Send(SockPath, new ControlRequest("echo", ["a", "b c"], Json: true));
        Assert.True(resp.Ok, resp.Error);
        Assert.Equal("a|b c json", resp.Body);
    }

    [Fact]
    public void UnknownVerbAndThrowingHandlerGiveErrorsAndTheServerKeepsAnswering()
    {
        using var server = new ControlServer(SockPath);
        server.Register("boom", _ => throw new InvalidOperationException("kaput"));
        server.Register("ping", _ => ControlResponse.Success("pong"));
        server.Start();
        var unknown = ControlClient.Send(SockPath, new ControlRequest("nope", []));
        Assert.False(unknown.Ok);
        Assert.Equal("unknown verb 'nope' (known: boom, ping)", unknown.Error);
        var boom = ControlClient.Send(SockPath, new ControlRequest("boom", []));
        Assert.Equal("InvalidOperationException: kaput", boom.Error);
        Assert.Equal("pong", ControlClient.Send(SockPath, new ControlRequest("ping", [])).Body);
    }

    [Fact]
    public void StaleSocketFileIsReplacedButALiveOneIsRefused()
    {
        using (var first = new ControlServer(SockPath))
        {
            first.Start();
            var ex = Assert.Throws<InvalidOperationException>(() => new ControlServer(SockPath));
            Assert.Contains("another meta-appliance is running", ex.Message);
        }
        // A file left behind by a crash: a listener killed with SIGKILL leaves its socket path.
        using (var nc = System.Diagnostics.Process.Start("nc", ["-lU", SockPath]))
        {
            for (int i = 0; i < 100 && !File.Exists(SockPath); i++) Thread.Sleep(20);
            nc.Kill();
            nc.WaitForExit();
        }
        Assert.True(File.Exists(SockPath));
        Assert.False(ControlClient.IsAnswering(SockPath));
        using var second = new ControlServer(SockPath);
        second.Register("ping", _ => ControlResponse.Success("pong"));
        second.Start();
        Assert.Equal("pong", ControlClient.Send(SockPath, new ControlRequest("ping", [])).Body);
    }

    [Fact]
    public void ClientSaysClearlyWhenNothingRuns()
    {
        var resp = ControlClient.Send(SockPath, new ControlRequest("status", []));
        Assert.False(resp.Ok);
        Assert.Contains($"cannot reach the appliance at {SockPath}", resp.Error);
    }

    [Fact]
    public void SocketFileIsRemovedOnDispose()
    {
        new ControlServer(SockPath).Dispose();
        Assert.False(File.Exists(SockPath));
    }
}
