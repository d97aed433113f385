namespace Appliance.Interop;

/// <summary>A failed platform call: what was attempted, on what, the errno, and what to do about it.</summary>
public sealed class PlatformException : Exception
{
    public int Errno { get; }
    public string Operation { get; }
    public string? Target { get; }

    public PlatformException(string operation, string? target, int errno, string? hint = null)
        : base(Format(operation, target, errno, hint))
    {
        Operation = operation;
        Target = target;
        Errno = errno;
    }

    private static string Format(string operation, string? target, int errno, string? hint)
    {
        var on = target is null ? "" : $" on {target}";
        var what = $"{operation}{on} failed: {LibC.Describe(errno)} ({Interop.Errno.Name(errno)})";
        hint ??= Interop.Errno.DefaultHint(errno);
        return hint is null ? what : $"{what}. {hint}";
    }

    /// <summary>Throws for the errno of the last P/Invoke.</summary>
    public static PlatformException FromLastError(string operation, string? target = null, string? hint = null)
        => new(operation, target, System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), hint);
}
