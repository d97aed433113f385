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
        var what = $"{operation}{on} failed: {LibC.Describe(errno)} ({Appliance.Errno.Name(errno)})";
        hint ??= DefaultHint(errno);
        return hint is null ? what : $"{what}. {hint}";
    }

    /// <summary>The advice given with a failed platform call when the caller has none.</summary>
    internal static string? DefaultHint(int errno) => errno switch
    {
        Appliance.Errno.EPERM or Appliance.Errno.EACCES => "Run as root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW are needed)",
        Appliance.Errno.EBUSY => "Another program or process already owns this interface or queue; stop it first",
        Appliance.Errno.ENOBUFS or Appliance.Errno.ENOMEM => "Raise RLIMIT_MEMLOCK (ulimit -l unlimited) or use fewer/smaller rings",
        Appliance.Errno.EOPNOTSUPP => "The driver does not support this mode; the appliance falls back to copy/generic mode",
        Appliance.Errno.ENODEV => "The interface does not exist (check the name, or whether it was deleted)",
        _ => null,
    };

    /// <summary>Throws for the errno of the last P/Invoke.</summary>
    public static PlatformException FromLastError(string operation, string? target = null, string? hint = null)
        => new(operation, target, System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), hint);
}
