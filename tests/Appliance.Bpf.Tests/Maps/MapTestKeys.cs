namespace Appliance.Bpf.Tests.Maps;

internal static class MapTestKeys
{
    public static byte[] U32(uint v) => BitConverter.GetBytes(v);
    public static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    /// <summary>An LPM key {prefixlen, IPv4 address bytes}.</summary>
    public static byte[] Lpm4(uint prefixLen, byte a, byte b, byte c, byte d) => [.. BitConverter.GetBytes(prefixLen), a, b, c, d];
}
