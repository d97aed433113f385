using System.Diagnostics;
using System.Security.Cryptography;
using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A TCP transfer with netcat-openbsd between two namespaces: a listener that writes what it receives to a
/// file, started and waited for (ss shows it listening), then a client that sends a file and half-closes (-N).</summary>
public static class TcpTransfer
{
    /// <summary>Sends <paramref name="bytes"/> random bytes; returns true when the listener received exactly them.
    /// False (and no exception) when the connection cannot be made within <paramref name="connectTimeoutSeconds"/>.</summary>
    public static bool Send(NetNamespace client, NetNamespace server, string serverAddress, int port, int bytes, int connectTimeoutSeconds = 3)
    {
        string family = serverAddress.Contains(':') ? "-6 " : ""; // nc -l listens on IPv4 only unless told
        var dir = Path.Combine(Path.GetTempPath(), $"mapp-tcp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "source"), received = Path.Combine(dir, "received");
        var data = new byte[bytes];
        new Random(port).NextBytes(data);
        File.WriteAllBytes(source, data);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", server.Name, "sh", "-c", $"exec nc {family}-l -w 10 {port} > {received}" }) psi.ArgumentList.Add(a);
        using var listener = Process.Start(psi)!;
        try
        {
            if (!Eventually.True(() => server.TryExec("ss", "-ltnH", $"sport = :{port}").StdOut.Contains($":{port}"), 5000))
                throw new InvalidOperationException($"nc did not start listening on {port} in {server.Name}");
            var r = client.TryExec("sh", "-c", $"nc -N -w {connectTimeoutSeconds} {serverAddress} {port} < {source}");
            if (r.ExitCode != 0)
            {
                listener.Kill();
                return false;
            }
            if (!listener.WaitForExit(15000)) throw new TimeoutException("the nc listener did not finish after the client closed");
            return File.Exists(received) && SHA256.HashData(File.ReadAllBytes(received)).AsSpan().SequenceEqual(SHA256.HashData(data));
        }
        finally
        {
            if (!listener.HasExited) listener.Kill();
            Directory.Delete(dir, recursive: true);
        }
    }
}
