using System.Text;

namespace Appliance.Interop;

/// <summary>A string as the NUL-terminated UTF-8 bytes libc takes: Tmds.LibC's calls take <c>byte*</c>, so a path
/// is pinned with <c>fixed (byte* p = Utf8Z.Of(path))</c> (a null string gives a null pointer).</summary>
public static class Utf8Z
{
    public static byte[]? Of(string? s)
    {
        if (s is null) return null;
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
