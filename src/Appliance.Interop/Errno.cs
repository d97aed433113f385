namespace Appliance.Interop;

/// <summary>Linux errno values the appliance reacts to, with their names and the advice we give.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
        EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, ENOSPC = 28, E2BIG = 7,
        ENOTSUP = 95, EOPNOTSUPP = 95, EADDRINUSE = 98, ENETDOWN = 100, ENOBUFS = 105, ENOTCONN = 107;

    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", EINTR => "EINTR", EBADF => "EBADF", EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST",
        ENODEV => "ENODEV", EINVAL => "EINVAL", ENOSPC => "ENOSPC", E2BIG => "E2BIG", EOPNOTSUPP => "EOPNOTSUPP",
        EADDRINUSE => "EADDRINUSE", ENETDOWN => "ENETDOWN", ENOBUFS => "ENOBUFS", ENOTCONN => "ENOTCONN",
        _ => $"errno {errno}",
    };

    public static string? DefaultHint(int errno) => errno switch
    {
        EPERM or EACCES => "Run as root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW are needed)",
        EBUSY => "Another program or process already owns this interface or queue; stop it first",
        ENOBUFS or ENOMEM => "Raise RLIMIT_MEMLOCK (ulimit -l unlimited) or use fewer/smaller rings",
        EOPNOTSUPP => "The driver does not support this mode; the appliance falls back to copy/generic mode",
        ENODEV => "The interface does not exist (check the name, or whether it was deleted)",
        _ => null,
    };
}
