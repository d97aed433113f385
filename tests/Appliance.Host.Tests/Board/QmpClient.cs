using System.Net.Sockets;
using System.Text;

namespace Appliance.Host.Tests.Board;

/// <summary>Minimal QMP (QEMU Machine Protocol) client over the board's qmp.sock: one command per connection
/// (`qmp_capabilities`, then the command), returning QEMU's reply line. Used to pull a port's cable
/// (`set_link`) and to press the power button (`system_powerdown`).</summary>
public static class QmpClient
{
    /// <param name="argumentsJson">the command's "arguments" object as JSON, or null.</param>
    public static string Execute(string socketPath, string command, string? argumentsJson = null, TimeSpan? timeout = null)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        ReadUntil(reader, "\"QMP\"");                       // greeting
        writer.WriteLine("{\"execute\":\"qmp_capabilities\"}");
        ReadUntil(reader, "\"return\"");
        writer.WriteLine(argumentsJson is null
            ? $"{{\"execute\":\"{command}\"}}"
            : $"{{\"execute\":\"{command}\",\"arguments\":{argumentsJson}}}");
        var reply = ReadUntil(reader, "\"return\"", "\"error\"");
        if (reply.Contains("\"error\"")) throw new InvalidOperationException($"QMP {command} failed: {reply}");
        return reply;
    }

    private static string ReadUntil(StreamReader reader, params string[] markers)
    {
        while (reader.ReadLine() is { } line)
            if (markers.Any(line.Contains)) return line;
        throw new IOException("QMP connection closed early");
    }
}
