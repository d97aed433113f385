using System.Net.Sockets;
using System.Text;
using Appliance.Host.Service;
using Xunit;

namespace Appliance.Host.Tests.Service;

/// <summary>sd_notify as we write it: datagrams on a real unix socket, the watchdog interval from the environment.</summary>
public sealed class ServiceNotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-notify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Env(params (string Key, string Value)[] pairs) =>
        key => pairs.FirstOrDefault(p => p.Key == key).Value;

    [Fact]
    public void NoNotifySocketMeansNoNotifier()
    {
        Assert.Null(ServiceNotifier.From(Env()));
        Assert.Null(ServiceNotifier.From(Env(("NOTIFY_SOCKET", "relative/path"))));
    }

    [Fact]
    public void TheWatchdogIntervalIsHalfOfWatchdogUsecForThisProcessOnly()
    {
        using var mine = ServiceNotifier.From(Env(("NOTIFY_SOCKET", "/run/x"), ("WATCHDOG_USEC", "10000000")))!;
        Assert.Equal(TimeSpan.FromSeconds(5), mine.WatchdogInterval);
        using var pid = ServiceNotifier.From(Env(("NOTIFY_SOCKET", "/run/x"), ("WATCHDOG_USEC", "10000000"), ("WATCHDOG_PID", Environment.ProcessId.ToString())))!;
        Assert.Equal(TimeSpan.FromSeconds(5), pid.WatchdogInterval);
        using var other = ServiceNotifier.From(Env(("NOTIFY_SOCKET", "/run/x"), ("WATCHDOG_USEC", "10000000"), ("WATCHDOG_PID", "1")))!;
        Assert.Null(other.WatchdogInterval);
        using var none = ServiceNotifier.From(Env(("NOTIFY_SOCKET", "@abstract")))!;
        Assert.Null(none.WatchdogInterval);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MessagesArriveAsDatagramsOnPathAndAbstractSockets(bool abstractName)
    {
        string name = abstractName ? $"@mapp-notify-{Guid.NewGuid():N}" : Path.Combine(_dir, "notify.sock");
        using var listener = NotifyListener.Bind(name);
        using var n = ServiceNotifier.From(Env(("NOTIFY_SOCKET", name), ("WATCHDOG_USEC", "60000000")))!;
        n.Status("reading");
        n.Ready("forwarding (2 ports, 1 pairs)");
        n.Watchdog();
        n.Watchdog(); // within the interval: not sent
        n.Stopping("bye");
        Assert.Equal("STATUS=reading", listener.Receive(TimeSpan.FromSeconds(5)));
        Assert.Equal("READY=1\nSTATUS=forwarding (2 ports, 1 pairs)", listener.Receive(TimeSpan.FromSeconds(5)));
        Assert.Equal("WATCHDOG=1", listener.Receive(TimeSpan.FromSeconds(5)));
        Assert.Equal("STOPPING=1\nSTATUS=bye", listener.Receive(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void AMissingSocketIsNotAnError()
    {
        using var n = ServiceNotifier.From(Env(("NOTIFY_SOCKET", Path.Combine(_dir, "gone.sock"))))!;
        n.Ready("forwarding");
    }
}

/// <summary>The systemd side of the notify protocol for tests: a bound unix datagram socket.</summary>
public sealed class NotifyListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public static NotifyListener Bind(string name)
    {
        var l = new NotifyListener();
        l._socket.Bind(new UnixDomainSocketEndPoint(name[0] == '@' ? "\0" + name[1..] : name));
        return l;
    }

    /// <summary>The next message, or null when none came within <paramref name="timeout"/>.</summary>
    public string? Receive(TimeSpan timeout)
    {
        if (!_socket.Poll(timeout, SelectMode.SelectRead)) return null;
        var buffer = new byte[4096];
        int n = _socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    public void Dispose() => _socket.Dispose();
}
