using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Appliance.Host.Control;

/// <summary>Answers one verb on the control socket.</summary>
public delegate ControlResponse ControlHandler(ControlRequest request);

/// <summary>Serves one streaming verb on its own connection and thread: first one answer line
/// (<see cref="ControlServer.WriteAnswer"/>; a failure ends the connection), then the verb's own bytes until it is
/// done, the client shuts its sending side (its way to say stop) or <paramref name="stopping"/> fires.</summary>
public delegate void ControlStreamHandler(ControlRequest request, Socket client, CancellationToken stopping);

/// <summary>The control socket (default /run/meta-appliance/control.sock): a Unix stream socket, one JSON
/// request line in, one JSON response line out per connection; a streaming verb (<see cref="RegisterStream"/>, e.g.
/// `capture`) answers its line and then keeps the connection, on a thread of its own, for what it streams. Handlers run on the server's thread, never
/// on the datapath's. A stale socket file from a crashed run is replaced; a live one (another instance
/// answering) is an error.</summary>
public sealed class ControlServer : IDisposable
{
    public const string DefaultPath = "/run/meta-appliance/control.sock";
    private const int MaxRequestBytes = 64 * 1024;

    private const int MaxStreams = 4;
    private readonly Dictionary<string, ControlHandler> _handlers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ControlStreamHandler> _streams = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _streamThreads = [];
    private readonly Socket _listener;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public string Path { get; }

    public ControlServer(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            if (ControlClient.IsAnswering(path))
                throw new InvalidOperationException($"another meta-appliance is running: {path} answers. Stop it first.");
            File.Delete(path);
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(8);
        _thread = new Thread(Serve) { IsBackground = true, Name = "control-socket" };
    }

    public void Register(string verb, ControlHandler handler) => _handlers[verb] = handler;

    public void RegisterStream(string verb, ControlStreamHandler handler) => _streams[verb] = handler;

    public void Start() => _thread.Start();

    private void Serve()
    {
        while (!_stopping)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (SocketException) when (_stopping) { return; }
            catch (ObjectDisposedException) { return; }
            bool handedOff = false;
            try { handedOff = Answer(client); }
            catch (Exception e) when (e is SocketException or IOException) { /* the client went away */ }
            finally
            {
                if (!handedOff) client.Dispose();
            }
        }
    }

    /// <summary>Answers one request; true when a streaming verb took the connection over.</summary>
    private bool Answer(Socket client)
    {
        client.ReceiveTimeout = 5000;
        var line = ReadLine(client);
        ControlResponse response;
        try
        {
            var request = line is null ? null : JsonSerializer.Deserialize(line, ControlJson.Default.ControlRequest);
            if (request is not null && _streams.TryGetValue(request.Verb, out var stream))
            {
                if (StartStream(stream, request, client)) return true;
                response = ControlResponse.Failure($"{MaxStreams} streams are running already; stop one first");
            }
            else response = request is null ? ControlResponse.Failure("empty or oversized request")
                : _handlers.TryGetValue(request.Verb, out var h) ? h(request)
                : ControlResponse.Failure($"unknown verb '{request.Verb}' (known: {string.Join(", ", _handlers.Keys.Order())})");
        }
        catch (JsonException e)
        {
            response = ControlResponse.Failure("malformed request: " + e.Message);
        }
        catch (Exception e)
        {
            response = ControlResponse.Failure($"{e.GetType().Name}: {e.Message}");
        }
        WriteAnswer(client, response);
        return false;
    }

    /// <summary>One answer line.</summary>
    public static void WriteAnswer(Socket client, ControlResponse response)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(response, ControlJson.Default.ControlResponse);
        client.Send(bytes);
        client.Send("\n"u8);
    }

    private bool StartStream(ControlStreamHandler handler, ControlRequest request, Socket client)
    {
        lock (_streamThreads)
        {
            _streamThreads.RemoveAll(t => !t.IsAlive);
            if (_streamThreads.Count >= MaxStreams) return false;
            var token = _stop.Token;
            var thread = new Thread(() =>
            {
                using (client)
                {
                    client.ReceiveTimeout = 0;
                    try { handler(request, client, token); }
                    catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException) { /* the client went away */ }
                    catch (Exception e)
                    {
                        // A bug in a stream verb must not take the appliance down with it.
                        Appliance.Datapath.Diagnostics.Log.Error("control", "stream verb failed", ("verb", request.Verb), ("error", e.ToString()));
                    }
                }
            }) { IsBackground = true, Name = "control-" + request.Verb };
            _streamThreads.Add(thread);
            thread.Start();
            return true;
        }
    }

    internal static string? ReadLine(Socket s)
    {
        var buf = new byte[4096];
        var all = new MemoryStream();
        while (all.Length < MaxRequestBytes)
        {
            int n = s.Receive(buf);
            if (n == 0) break;
            int nl = Array.IndexOf(buf, (byte)'\n', 0, n);
            all.Write(buf, 0, nl >= 0 ? nl : n);
            if (nl >= 0) return Encoding.UTF8.GetString(all.GetBuffer(), 0, (int)all.Length);
        }
        return all.Length is > 0 and < MaxRequestBytes ? Encoding.UTF8.GetString(all.GetBuffer(), 0, (int)all.Length) : null;
    }

    public void Dispose()
    {
        _stopping = true;
        _stop.Cancel();
        _listener.Dispose();
        if (_thread.IsAlive) _thread.Join(2000);
        lock (_streamThreads)
            foreach (var t in _streamThreads) t.Join(2000);
        try { File.Delete(Path); } catch (IOException) { }
    }
}
