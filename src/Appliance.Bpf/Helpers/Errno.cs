namespace Appliance.Bpf.Helpers;

/// <summary>Linux errno values helpers return negated, as the kernel's helpers do.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, E2BIG = 7, ENOMEM = 12, EFAULT = 14, EBUSY = 16, EEXIST = 17,
        ENODEV = 19, EINVAL = 22, EAFNOSUPPORT = 97, ENOSPC = 28, ERANGE = 34, ENOTSUPP = 524, EOPNOTSUPP = 95, EALREADY = 114, EDEADLK = 35;
}
