using System.Globalization;
using System.Net;

namespace Appliance.Config;

/// <summary>The Prometheus endpoint (config <c>metrics</c>): where the appliance serves <c>/metrics</c>. Without a
/// <c>metrics</c> member nothing listens.</summary>
public sealed record MetricsConfig
{
    /// <summary>"ADDRESS:PORT": "127.0.0.1:9101", "0.0.0.0:9101", "[::1]:9101".</summary>
    public required string Listen { get; init; }

    public const string Expected = "an address and port like \"127.0.0.1:9101\" or \"[::1]:9101\"";

    /// <summary>Parses <paramref name="text"/> as IPv4:PORT or [IPv6]:PORT with a port of 1..65535.</summary>
    public static bool TryParseListen(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        string host = text[..colon];
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            return false;
        IPAddress? address;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            if (!IPAddress.TryParse(host[1..^1], out address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
        }
        else if (!IPAddress.TryParse(host, out address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                 || host.Count(c => c == '.') != 3)
        {
            return false;
        }
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}
