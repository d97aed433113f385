using System.Net.Sockets;
using System.Text.Json;
using Appliance.Config;

namespace Appliance.Host.Control;

/// <summary>The CLI side of the control socket.</summary>
public static class ControlClient
{
    /// <summary>Answers (stats of many pairs, map dumps) may be far larger than a request.</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    /// <summary>Sends one request and reads its answer. Never throws for what the socket does: a request too large
    /// for the server is refused here; when the appliance answered and closed before taking the request (it is busy,
    /// or the request was refused), its answer is still read; any other socket error is the failure's text.</summary>
    public static ControlResponse Send(string path, ControlRequest request, int timeoutMs = 10000)
    {
        if (RequestLine(request) is not { } line) return ControlResponse.Failure(ControlServer.TooLarge(ControlServer.MaxRequestBytes));
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (Connect(s, path) is { } unreachable) return unreachable;
        s.ReceiveTimeout = timeoutMs;
        s.SendTimeout = timeoutMs;
        string? notSent = TrySend(s, line);
        string? answer, problem;
        try
        {
            (answer, problem) = ControlServer.ReadLine(s, MaxResponseBytes, TimeSpan.FromMilliseconds(timeoutMs));
        }
        catch (SocketException e)
        {
            (answer, problem) = (null, e.Message);
        }
        return answer is null ? NoAnswer(notSent, $"no answer from the appliance: {problem}") : Parse(answer);
    }

    /// <summary>The request as the line the server reads, or null when it is larger than the server takes.</summary>
    private static byte[]? RequestLine(ControlRequest request)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(request, ControlJson.Default.ControlRequest);
        if (json.Length > ControlServer.MaxRequestBytes) return null;
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    private static ControlResponse? Connect(Socket s, string path)
    {
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            return null;
        }
        catch (SocketException e)
        {
            return ControlResponse.Failure($"cannot reach the appliance at {path}: {e.Message}. Is `meta-appliance run` running?");
        }
        catch (ArgumentException) // an empty path, or one longer than a unix socket address holds (.NET's message echoes it whole)
        {
            return ControlResponse.Failure($"cannot use {PrintableText.Quote(path)} as the control socket: a unix socket path has 1 to 107 bytes "
                + $"(this one has {System.Text.Encoding.UTF8.GetByteCount(path)})");
        }
    }

    /// <summary>No answer came: <paramref name="otherwise"/>, unless the request could not be sent
    /// (<paramref name="notSent"/>: the appliance closed the connection first).</summary>
    private static ControlResponse NoAnswer(string? notSent, string otherwise) => ControlResponse.Failure(notSent is null ? otherwise
        : $"the appliance closed the connection before it took the request ({notSent}) and gave no answer");

    /// <summary>Sends the request line; null when it went, else why not (the appliance may have answered and closed
    /// first: the caller still reads that answer).</summary>
    private static string? TrySend(Socket s, byte[] line)
    {
        try
        {
            s.Send(line);
            return null;
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }

    private static ControlResponse Parse(string answer)
    {
        try
        {
            return JsonSerializer.Deserialize(answer, ControlJson.Default.ControlResponse) ?? ControlResponse.Failure("empty answer");
        }
        catch (JsonException e)
        {
            return ControlResponse.Failure($"the appliance's answer is not readable: {e.Message}");
        }
    }

    /// <summary>Sends a streaming verb's request; returns the connection (positioned after the answer line, where the
    /// verb's stream starts) when the appliance accepted it, else null with the reason in <paramref name="answer"/>.</summary>
    public static Socket? OpenStream(string path, ControlRequest request, out ControlResponse answer)
    {
        if (RequestLine(request) is not { } line)
        {
            answer = ControlResponse.Failure(ControlServer.TooLarge(ControlServer.MaxRequestBytes));
            return null;
        }
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (Connect(s, path) is { } unreachable)
        {
            s.Dispose();
            answer = unreachable;
            return null;
        }
        string? notSent = TrySend(s, line);
        // The answer line byte by byte: whatever follows it belongs to the stream.
        var bytes = new List<byte>();
        var one = new byte[1];
        try
        {
            while (bytes.Count < 64 * 1024 && s.Receive(one) == 1 && one[0] != (byte)'\n') bytes.Add(one[0]);
        }
        catch (SocketException e)
        {
            notSent ??= e.Message;
            bytes.Clear();
        }
        answer = bytes.Count != 0 ? Parse(System.Text.Encoding.UTF8.GetString(bytes.ToArray()))
            : NoAnswer(notSent, "the appliance closed the control socket without an answer");
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
