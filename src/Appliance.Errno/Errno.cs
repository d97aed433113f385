namespace Appliance;

/// <summary>The one Linux errno table of the appliance: what syscalls and rtnetlink fail with (Interop, Datapath,
/// Host) and what eBPF helpers and map operations return negated, as the kernel's do. The values are the kernel's
/// asm-generic ones, the same on x86-64, arm64 and arm (a test checks them against Tmds.LibC's per-architecture
/// constants). It is its own leaf assembly so the eBPF engine (Appliance.Bpf) and the platform layer
/// (Appliance.Interop) share it without depending on each other; constants, not properties, so callers can
/// switch on them. Namespace <c>Appliance</c> makes it visible from every Appliance.* namespace without a using.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, E2BIG = 7, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
        EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, ENOSPC = 28, ERANGE = 34, EDEADLK = 35, EBADMSG = 74,
        ENOTSUP = 95, EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99, ENETDOWN = 100, ENOBUFS = 105, ENOTCONN = 107,
        EALREADY = 114,
        /// <summary>The kernel-internal "operation not supported" some BPF helpers return (not in errno.h).</summary>
        ENOTSUPP = 524;

    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", E2BIG => "E2BIG", EBADF => "EBADF", EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST",
        ENODEV => "ENODEV", EINVAL => "EINVAL", ENOSPC => "ENOSPC", ERANGE => "ERANGE", EDEADLK => "EDEADLK", EBADMSG => "EBADMSG",
        EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT", EADDRINUSE => "EADDRINUSE", EADDRNOTAVAIL => "EADDRNOTAVAIL", ENETDOWN => "ENETDOWN", ENOBUFS => "ENOBUFS",
        ENOTCONN => "ENOTCONN", EALREADY => "EALREADY", ENOTSUPP => "ENOTSUPP",
        _ => $"errno {errno}",
    };
}
