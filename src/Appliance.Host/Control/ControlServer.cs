using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Appliance.Config;

namespace Appliance.Host.Control;

/// <summary>Answers one verb on the control socket.</summary>
public delegate ControlResponse ControlHandler(ControlRequest request);

/// <summary>Serves one streaming verb on its own connection and thread: first one answer line
/// (<see cref="ControlServer.WriteAnswer"/>; a failure ends the connection), then the verb's own bytes until it is
/// done, the client shuts its sending side (its way to say stop) or <paramref name="stopping"/> fires.</summary>
public delegate void ControlStreamHandler(ControlRequest request, Socket client, CancellationToken stopping);

/// <summary>The control socket (default /run/meta-appliance/control.sock): a Unix stream socket, one JSON
/// request line in, one JSON response line out per connection; a streaming verb (<see cref="RegisterStream"/>, e.g.
/// `capture`) answers its line and then keeps the connection, on a thread of its own (at most
/// <see cref="MaxStreams"/>), for what it streams; a client that stops reading ends its stream after
/// <see cref="StreamStallTimeout"/>, and stopping the server ends every stream (one stuck in a send to such a client
/// within seconds). The file is 0600 (or 0660 with a control
/// group) whatever the umask (<see cref="ControlSocketFile"/>), and every connection's peer credentials are
/// checked (<see cref="ControlAccess"/>): anyone else gets "permission denied" for every verb.
/// <para>Each connection is read on its own thread, at most <see cref="MaxConnections"/> at once (more are
/// answered "busy"), within <see cref="RequestTimeout"/> and <see cref="MaxRequestBytes"/> for the whole
/// request, so a slow or silent client cannot hold the others up. Handlers run one at a time (under a lock),
/// never on the datapath's thread. Whatever a client sends gets an answer or a closed connection, never an
/// exception out of the server. A stale socket file from a crashed run is replaced; a live one (another
/// instance answering) is an error.</para></summary>
public sealed class ControlServer : IDisposable
{
    public const string DefaultPath = "/run/meta-appliance/control.sock";
    public const int MaxRequestBytes = 64 * 1024;
    public const int MaxConnections = 16;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private const int MaxStreams = 4;
    /// <summary>How long a streaming verb waits for its client to take one write (a pcapng block is at most a few KiB):
    /// a client that takes nothing for this long has stalled, and its stream ends, so what it holds (the one capture)
    /// is free again. A slow client that keeps taking is not cut off: what the verb cannot send meanwhile, it drops and counts.</summary>
    public static readonly TimeSpan StreamStallTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, ControlHandler> _handlers = new(StringComparer.Ordinal);
    private readonly Lock _handlerLock = new();
    private readonly Dictionary<string, ControlStreamHandler> _streams = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(Thread Thread, Socket Client)> _running = [];
    private readonly Socket _listener;
    private readonly Thread _thread;
    private readonly ControlAccess _access;
    private int _connections;
    private volatile bool _stopping;

    public string Path { get; }

    public ControlServer(string path, ControlAccess? access = null)
    {
        Path = path;
        _access = access ?? ControlAccess.RootOnly;
        if (File.Exists(path))
        {
            if (ControlClient.IsAnswering(path))
                throw new InvalidOperationException($"another meta-appliance is running: {path} answers. Stop it first.");
            File.Delete(path);
        }
        _listener = ControlSocketFile.Bind(path, _access);
        _listener.Listen(MaxConnections);
        _thread = new Thread(Serve) { IsBackground = true, Name = "control-socket" };
    }

    public void Register(string verb, ControlHandler handler)
    {
        lock (_handlerLock) _handlers[verb] = handler;
    }

    public void RegisterStream(string verb, ControlStreamHandler handler)
    {
        lock (_handlerLock) _streams[verb] = handler;
    }

    public void Start() => _thread.Start();

    private void Serve()
    {
        while (!_stopping)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (SocketException) when (_stopping) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; } // e.g. ECONNABORTED: the client gave up before we accepted
            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                Finish(client, ControlResponse.Failure($"busy: {MaxConnections} control connections are open; try again"));
                continue;
            }
            var connection = new Thread(() =>
            {
                try
                {
                    if (Answer(client) is { } response) Finish(client, response); // null: a stream verb took the connection
                }
                finally { Interlocked.Decrement(ref _connections); }
            }) { IsBackground = true, Name = "control-connection" };
            connection.Start();
        }
    }

    /// <summary>The answer to one request, or null when a streaming verb took the connection over.</summary>
    private ControlResponse? Answer(Socket client)
    {
        var (line, problem) = ReadLine(client, MaxRequestBytes, RequestTimeout);
        if (line is null) return ControlResponse.Failure(problem!);
        if (_access.Refusal(client) is { } refusal) return ControlResponse.Failure(refusal);
        try
        {
            var request = JsonSerializer.Deserialize(line, ControlJson.Default.ControlRequest);
            if (request is null) return ControlResponse.Failure("malformed request: expected a JSON object {\"verb\": ..., \"args\": [...]}, got null");
            if (string.IsNullOrEmpty(request.Verb)) return ControlResponse.Failure("malformed request: \"verb\" is missing or empty");
            request = request with { Args = request.Args ?? [] };
            if (request.Args.Any(a => a is null)) return ControlResponse.Failure("malformed request: \"args\" must be an array of strings");
            ControlStreamHandler? stream;
            lock (_handlerLock) _streams.TryGetValue(request.Verb, out stream);
            if (stream is not null)
                return StartStream(stream, request, client) ? null : ControlResponse.Failure($"{MaxStreams} streams are running already; stop one first");
            lock (_handlerLock)
            {
                return _handlers.TryGetValue(request.Verb, out var h) ? h(request)
                    : ControlResponse.Failure($"unknown verb {PrintableText.Quote(request.Verb)} (known: {string.Join(", ", _handlers.Keys.Concat(_streams.Keys).Order())})");
            }
        }
        catch (JsonException e)
        {
            return ControlResponse.Failure("malformed request: " + e.Message);
        }
        catch (Exception e)
        {
            return ControlResponse.Failure($"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Sends the answer (bounded by <see cref="RequestTimeout"/>: a client that does not read cannot
    /// hold the connection) and closes.</summary>
    private static void Finish(Socket client, ControlResponse response)
    {
        using (client)
        {
            try
            {
                client.SendTimeout = (int)RequestTimeout.TotalMilliseconds;
                WriteAnswer(client, response);
                client.Shutdown(SocketShutdown.Send);
                // Bytes the client sent past its request line, already queued: read them, so closing does not
                // reset the connection before the client has read the answer (bounded: this is not a reader).
                var rest = new byte[4096];
                for (int drained = 0; drained < 4 * MaxRequestBytes && client.Available > 0;)
                    drained += client.Receive(rest);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { /* the client went away */ }
        }
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
        lock (_running)
        {
            _running.RemoveAll(s => !s.Thread.IsAlive);
            if (_running.Count >= MaxStreams) return false;
            var token = _stop.Token;
            var thread = new Thread(() =>
            {
                using (client)
                {
                    client.ReceiveTimeout = 0;
                    client.SendTimeout = (int)StreamStallTimeout.TotalMilliseconds;
                    try { handler(request, client, token); }
                    catch (Exception e) when (Stalled(e))
                    {
                        Appliance.Datapath.Diagnostics.Log.Warn("control", $"the client of a stream took nothing for {StreamStallTimeout.TotalSeconds:0} s; the stream ended",
                            ("verb", request.Verb));
                    }
                    catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException) { /* the client went away */ }
                    catch (Exception e)
                    {
                        // A bug in a stream verb must not take the appliance down with it.
                        Appliance.Datapath.Diagnostics.Log.Error("control", "stream verb failed", ("verb", request.Verb), ("error", e.ToString()));
                    }
                }
            }) { IsBackground = true, Name = "control-" + request.Verb };
            _running.Add((thread, client));
            thread.Start();
            return true;
        }
    }

    /// <summary>A send of a stream that timed out (<see cref="StreamStallTimeout"/>), as the socket or a stream over it reports it.</summary>
    private static bool Stalled(Exception e) =>
        (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock;

    /// <summary>Wakes a stream's thread out of a send (the appliance is stopping); the stream may have ended already.</summary>
    private static void ShutDown(Socket client)
    {
        try { client.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>Why a request of more than <paramref name="maxBytes"/> bytes is refused (by the server, and by the
    /// client before it sends one).</summary>
    internal static string TooLarge(int maxBytes) => $"request larger than {maxBytes / 1024} KiB; a request is one JSON line of at most {maxBytes} bytes";

    /// <summary>One line (without its newline) of at most <paramref name="maxBytes"/> bytes, all of it within
    /// <paramref name="timeout"/>; else null and why.</summary>
    internal static (string? Line, string? Problem) ReadLine(Socket s, int maxBytes, TimeSpan timeout)
    {
        var buf = new byte[4096];
        var all = new MemoryStream();
        long start = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                int left = (int)(timeout - Stopwatch.GetElapsedTime(start)).TotalMilliseconds;
                if (left <= 0) return (null, $"no complete request line within {timeout.TotalSeconds:0.#} s");
                s.ReceiveTimeout = left;
                int n = s.Receive(buf);
                if (n == 0) break;
                int nl = Array.IndexOf(buf, (byte)'\n', 0, n);
                all.Write(buf, 0, nl >= 0 ? nl : n);
                if (all.Length > maxBytes) return (null, TooLarge(maxBytes));
                if (nl >= 0) break;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return (null, $"no complete request line within {timeout.TotalSeconds:0.#} s");
        }
        if (all.Length == 0) return (null, "empty request: expected one JSON line {\"verb\": ..., \"args\": [...]}");
        return (Encoding.UTF8.GetString(all.GetBuffer(), 0, (int)all.Length), null);
    }

    public void Dispose()
    {
        _stopping = true;
        _stop.Cancel();
        _listener.Dispose();
        if (_thread.IsAlive) _thread.Join(2000);
        lock (_running)
            foreach (var (thread, client) in _running)
            {
                if (thread.Join(2000)) continue; // it saw stopping and finished its stream
                ShutDown(client);                // in a send to a client that does not read: that send fails now
                thread.Join(2000);
            }
        try { File.Delete(Path); } catch (IOException) { }
    }
}
