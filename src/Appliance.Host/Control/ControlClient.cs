using System.Net.Sockets;
using System.Text.Json;

namespace Appliance.Host.Control;

/// <summary>The CLI side of the control socket.</summary>
public static class ControlClient
{
    public static ControlResponse Send(string path, ControlRequest request, int timeoutMs = 10000)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            return ControlResponse.Failure($"cannot reach the appliance at {path}: {e.Message}. Is `meta-appliance run` running?");
        }
        s.ReceiveTimeout = timeoutMs;
        s.Send(JsonSerializer.SerializeToUtf8Bytes(request, ControlJson.Default.ControlRequest));
        s.Send("\n"u8);
        var line = ControlServer.ReadLine(s);
        return line is null
            ? ControlResponse.Failure("the appliance closed the control socket without an answer")
            : JsonSerializer.Deserialize(line, ControlJson.Default.ControlResponse) ?? ControlResponse.Failure("empty answer");
    }

    /// <summary>Sends a streaming verb's request; returns the connection (positioned after the answer line, where the
    /// verb's stream starts) when the appliance accepted it, else null with the reason in <paramref name="answer"/>.</summary>
    public static Socket? OpenStream(string path, ControlRequest request, out ControlResponse answer)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            s.Dispose();
            answer = ControlResponse.Failure($"cannot reach the appliance at {path}: {e.Message}. Is `meta-appliance run` running?");
            return null;
        }
        s.Send(JsonSerializer.SerializeToUtf8Bytes(request, ControlJson.Default.ControlRequest));
        s.Send("\n"u8);
        // The answer line byte by byte: whatever follows it belongs to the stream.
        var line = new List<byte>();
        var one = new byte[1];
        while (line.Count < 64 * 1024 && s.Receive(one) == 1 && one[0] != (byte)'\n') line.Add(one[0]);
        answer = line.Count == 0 ? ControlResponse.Failure("the appliance closed the control socket without an answer")
            : JsonSerializer.Deserialize(line.ToArray(), ControlJson.Default.ControlResponse) ?? ControlResponse.Failure("empty answer");
        if (answer.Ok) return s;
        s.Dispose();
        return null;
    }

    /// <summary>True when something accepts connections on <paramref name="path"/>.</summary>
    public static bool IsAnswering(string path)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
