using System.Net;
using System.Net.Sockets;
using System.Text;
using Appliance.Datapath.Diagnostics;

namespace Appliance.Host.Metrics;

/// <summary>A minimal HTTP/1.1 responder for Prometheus (config <c>metrics.listen</c>): <c>GET /metrics</c> answers
/// the exposition text, anything else 404 (other paths), 405 (other methods) or 400; every answer closes the
/// connection. One connection at a time on its own thread, bounded per scrape: at most 8 KiB of request read
/// within 2 s, 2 s to send the answer — a stuck or hostile client costs at most that, never the datapath.</summary>
public sealed class MetricsServer : IDisposable
{
    private const int MaxRequest = 8192, TimeoutMs = 2000;
    private readonly Socket _listener;
    private readonly Func<string> _render;
    private readonly Thread _thread;
    private volatile bool _stopping;

    /// <summary>Where it listens (the port the kernel chose when the config said 0 is not allowed, so the configured one).</summary>
    public IPEndPoint Endpoint { get; }
    /// <summary>Scrapes answered with 200.</summary>
    public long Scrapes => Volatile.Read(ref _scrapes);
    private long _scrapes;

    public MetricsServer(IPEndPoint endpoint, Func<string> render)
    {
        _render = render;
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Bind(endpoint);
            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _thread = new Thread(Serve) { IsBackground = true, Name = "metrics-http" };
        _thread.Start();
    }

    private void Serve()
    {
        while (!_stopping)
        {
            Socket client;
            try { client = _listener.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { if (_stopping) return; continue; }
            using (client)
            {
                try { Answer(client); }
                catch (Exception e) when (e is SocketException or IOException) { /* the scraper went away */ }
                catch (Exception e)
                {
                    Log.Error("metrics", "rendering /metrics failed", ("error", e.Message));
                    TrySend(client, 500, "Internal Server Error", "text/plain; charset=utf-8", "rendering the metrics failed: " + e.Message + "\n");
                }
            }
        }
    }

    private void Answer(Socket client)
    {
        client.ReceiveTimeout = TimeoutMs;
        client.SendTimeout = TimeoutMs;
        var request = ReadHead(client);
        if (request is null)
        {
            TrySend(client, 400, "Bad Request", "text/plain; charset=utf-8", "bad request\n");
            return;
        }
        var parts = request.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            TrySend(client, 400, "Bad Request", "text/plain; charset=utf-8", "bad request line\n");
            return;
        }
        if (parts[0] != "GET")
        {
            TrySend(client, 405, "Method Not Allowed", "text/plain; charset=utf-8", "only GET\n", "Allow: GET\r\n");
            return;
        }
        string path = parts[1].Split('?')[0];
        if (path != "/metrics")
        {
            TrySend(client, 404, "Not Found", "text/plain; charset=utf-8", "the metrics are at /metrics\n");
            return;
        }
        string body = _render();
        TrySend(client, 200, "OK", PrometheusExposition.ContentType, body);
        Interlocked.Increment(ref _scrapes);
    }

    /// <summary>The request line, once the whole head (up to the blank line) has arrived; null when it is too long or cut off.</summary>
    private static string? ReadHead(Socket client)
    {
        var buffer = new byte[MaxRequest];
        int have = 0;
        while (have < buffer.Length)
        {
            int n = client.Receive(buffer, have, buffer.Length - have, SocketFlags.None);
            if (n == 0) return null;
            have += n;
            int end = buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8);
            if (end < 0) end = buffer.AsSpan(0, have).IndexOf("\n\n"u8);
            if (end >= 0)
            {
                int line = buffer.AsSpan(0, have).IndexOf((byte)'\n');
                return Encoding.ASCII.GetString(buffer, 0, line).TrimEnd('\r');
            }
        }
        return null;
    }

    private static void TrySend(Socket client, int status, string reason, string contentType, string body, string extraHeaders = "")
    {
        var payload = Encoding.UTF8.GetBytes(body);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {payload.Length}\r\n{extraHeaders}Connection: close\r\n\r\n");
        client.Send(head);
        client.Send(payload);
        client.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        _stopping = true;
        _listener.Dispose();
        if (_thread.IsAlive) _thread.Join(TimeoutMs * 2);
    }
}
