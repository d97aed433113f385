using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>An interface address with its prefix length, "10.0.0.2/24" or "fd00::2/64" (as `ip addr add`).</summary>
[JsonConverter(typeof(InterfaceAddressJsonConverter))]
public readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public const string Expected = "an address with prefix length like \"10.0.0.2/24\" or \"fd00::2/64\"";

    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    public int MaxPrefixLength => IsIPv6 ? 128 : 32;

    /// <summary>The network this address is on: host bits cleared.</summary>
    public InterfaceAddress Network
    {
        get
        {
            byte[] bytes = Address.GetAddressBytes();
            for (int bit = PrefixLength; bit < bytes.Length * 8; bit++)
                bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            return new InterfaceAddress(new IPAddress(bytes), PrefixLength);
        }
    }

    public static bool TryParse(string text, out InterfaceAddress result)
    {
        result = default;
        int slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1) return false;
        string addressText = text[..slash];
        string lengthText = text[(slash + 1)..];
        if (lengthText.Length > 3 || !lengthText.All(char.IsAsciiDigit)) return false;
        if (lengthText.Length > 1 && lengthText[0] == '0') return false;
        int length = int.Parse(lengthText, CultureInfo.InvariantCulture);
        if (!TryParseStrictAddress(addressText, out var address)) return false;
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (length > max) return false;
        result = new InterfaceAddress(address, length);
        return true;
    }

    public static InterfaceAddress Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"\"{text}\" is not {Expected}");

    /// <summary>Dotted-quad IPv4 (four decimal parts, no leading zeros) or IPv6 without a zone.</summary>
    private static bool TryParseStrictAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Contains(':'))
        {
            if (text.Contains('%')) return false;
            if (!IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return false;
            address = v6;
            return true;
        }
        string[] parts = text.Split('.');
        if (parts.Length != 4) return false;
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit)) return false;
            if (part.Length > 1 && part[0] == '0') return false;
            if (int.Parse(part, CultureInfo.InvariantCulture) > 255) return false;
        }
        address = IPAddress.Parse(text);
        return true;
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}
