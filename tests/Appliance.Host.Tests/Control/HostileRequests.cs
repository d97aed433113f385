using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Appliance.Host.Control;

namespace Appliance.Host.Tests.Control;

/// <summary>Requests no well-behaved client sends, each a whole conversation's bytes: random bytes, truncated
/// JSON (with and without its newline), huge lines, deep nesting, unknown verbs, wrong types and nulls,
/// invalid UTF-8, known verbs with arguments that cannot work. None of them is a valid request that changes
/// anything, so every one must get an error answer. Deterministic for a seed.</summary>
internal static class HostileRequests
{
    private static readonly string[] Fixed =
    [
        "", "null", "[]", "\"status\"", "123", "{}", "{\"verb\":null}", "{\"verb\":1}", "{\"verb\":\"\"}", "{\"verb\":[]}",
        "{\"args\":[]}", "{\"verb\":\"maps\",\"args\":\"x\"}", "{\"verb\":\"maps\",\"args\":[1,2]}", "{\"verb\":\"maps\",\"args\":[null]}",
        "{\"verb\":\"status\",\"json\":\"yes\"}", "{\"verb\":\"status\",\"args\":{}}", "{\"verb\":\"status\"}{\"verb\":\"status\"}",
        "{\"verb\":\"maps\",\"args\":[\"dump\",\"no-such-map\"]}", "{\"verb\":\"maps\",\"args\":[\"update\",\"no-such-map\",\"1\",\"2\"]}",
        "{\"verb\":\"maps\",\"args\":[\"frobnicate\"]}", "{\"verb\":\"pairs\",\"args\":[\"attach\"]}",
        "{\"verb\":\"pairs\",\"args\":[\"detach\",\"no-such-pair\",\"peer\",\"count\"]}",
        "{\"verb\":\"pairs\",\"args\":[\"attach\",\"no-such-pair\",\"sideways\",\"count\"]}", "{\"verb\":\"leds\",\"args\":[\"sideways\"]}",
        "{\"verb\":\"status\",\"args\":[],\"json\":true,\"verb\":7}", "{\"verb\":\"\\ud800\"}", "{\"verb\":\"st\\u0000atus\"}",
    ];

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static readonly string[] Verbs = ["status", "stats", "pairs", "programs", "maps", "reload", "leds"];

    public static IEnumerable<byte[]> Generate(int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            switch (random.Next(10))
            {
                case 0: // random bytes, sometimes with a newline somewhere
                    {
                        var bytes = new byte[random.Next(1, 300)];
                        random.NextBytes(bytes);
                        yield return bytes;
                        break;
                    }
                case 1: // a real request cut short, newline or not
                    {
                        string whole = JsonSerializer.Serialize(new ControlRequest(Verbs[random.Next(Verbs.Length)], ["dump", "x"], true), JsonOptions);
                        string cut = whole[..random.Next(1, whole.Length - 1)];
                        yield return Encoding.UTF8.GetBytes(random.Next(2) == 0 ? cut : cut + "\n");
                        break;
                    }
                case 2: // unknown verbs
                    yield return Encoding.UTF8.GetBytes($"{{\"verb\":\"v{random.Next()}\",\"args\":[]}}\n");
                    break;
                case 3: // a huge line (now and then: each is 70 KiB)
                    if (random.Next(50) == 0) yield return Encoding.UTF8.GetBytes("{\"verb\":\"" + new string('a', 70 * 1024) + "\"}\n");
                    else goto case 2;
                    break;
                case 4: // deep nesting
                    {
                        int depth = random.Next(50, 3000);
                        yield return Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth) + "\n");
                        break;
                    }
                case 5: // invalid UTF-8 inside a string
                    yield return [.. "{\"verb\":\""u8, 0xC3, 0x28, 0xFF, .. "\"}\n"u8];
                    break;
                default:
                    yield return Encoding.UTF8.GetBytes(Fixed[random.Next(Fixed.Length)] + (random.Next(4) == 0 ? "" : "\n"));
                    break;
            }
        }
    }

    /// <summary>Connects, sends <paramref name="request"/>, half-closes and reads the whole answer.</summary>
    public static ControlResponse Send(string socketPath, byte[] request)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(socketPath));
        s.ReceiveTimeout = 30000;
        try
        {
            s.Send(request);
            s.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException) { /* the server may answer and close before reading a huge request */ }
        var answer = new MemoryStream();
        var buf = new byte[4096];
        try
        {
            int n;
            while ((n = s.Receive(buf)) > 0) answer.Write(buf, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset && answer.ToArray().Contains((byte)'\n'))
        {
            // The server answered and closed while bytes we sent were still unread (it stops reading at 64 KiB).
        }
        string text = Encoding.UTF8.GetString(answer.ToArray()).TrimEnd('\n');
        return JsonSerializer.Deserialize<ControlResponse>(text, JsonOptions)
               ?? throw new InvalidDataException($"answer is null: '{text}'");
    }
}
