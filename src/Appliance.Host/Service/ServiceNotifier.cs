using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Host.Service;

/// <summary>systemd's notify protocol (sd_notify(3)), written here rather than linked from libsystemd: one datagram
/// per message to the unix socket in $NOTIFY_SOCKET (a path, or an abstract name starting with '@'), text lines
/// such as <c>READY=1</c>, <c>STATUS=...</c>, <c>WATCHDOG=1</c>, <c>STOPPING=1</c>. <see cref="WatchdogInterval"/> is half
/// of $WATCHDOG_USEC (when $WATCHDOG_PID, if set, is this process), how often the caller should send
/// <see cref="Watchdog"/>. A message that cannot be sent is dropped: systemd's absence never stops the appliance.</summary>
public sealed class ServiceNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _target;

    public TimeSpan? WatchdogInterval { get; }

    public string SocketPath { get; }

    private ServiceNotifier(string path, TimeSpan? watchdogInterval)
    {
        SocketPath = path;
        WatchdogInterval = watchdogInterval;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _target = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
    }

    /// <summary>The notifier systemd asked for through the environment, or null when $NOTIFY_SOCKET is not set.</summary>
    public static ServiceNotifier? FromEnvironment() => From(Environment.GetEnvironmentVariable);

    public static ServiceNotifier? From(Func<string, string?> environment)
    {
        var path = environment("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path) || (path[0] != '/' && path[0] != '@')) return null;
        TimeSpan? watchdog = null;
        if (ulong.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0 &&
            (environment("WATCHDOG_PID") is not { Length: > 0 } pid || pid == Environment.ProcessId.ToString(CultureInfo.InvariantCulture)))
            watchdog = TimeSpan.FromMicroseconds(usec / 2);
        return new ServiceNotifier(path, watchdog);
    }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}");

    public void Status(string status) => Send($"STATUS={status}");

    private long _lastWatchdog = long.MinValue;

    /// <summary>Sends WATCHDOG=1, at most once per <see cref="WatchdogInterval"/> however often it is called.</summary>
    public void Watchdog()
    {
        if (WatchdogInterval is not { } interval) return;
        long now = Environment.TickCount64;
        if (_lastWatchdog != long.MinValue && now - _lastWatchdog < (long)interval.TotalMilliseconds) return;
        _lastWatchdog = now;
        Send("WATCHDOG=1");
    }

    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    private void Send(string message)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message.ReplaceLineEndings("\n")), SocketFlags.None, _target);
        }
        catch (SocketException)
        {
            // systemd went away or the socket is gone: nothing to tell, keep forwarding
        }
    }

    public void Dispose() => _socket.Dispose();
}
