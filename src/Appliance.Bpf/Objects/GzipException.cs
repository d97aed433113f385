namespace Appliance.Bpf.Objects;

/// <summary>gzip data that cannot be unpacked (<see cref="Gzip.Unpack"/>): malformed, cut short, failing its CRC-32 or
/// length, or, <see cref="TooLarge"/>, unpacking to more than the caller's bound. The message says which, and where.</summary>
public sealed class GzipException(string message, bool tooLarge = false) : Exception(message)
{
    /// <summary>The data unpacks to more bytes than the caller allows (a gzip bomb, or just too much): nothing more was
    /// unpacked than the bound.</summary>
    public bool TooLarge { get; } = tooLarge;
}
