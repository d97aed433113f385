namespace Appliance.Bpf.Maps;

/// <summary>The errno values map operations and helpers return (negated), as in Linux.</summary>
public static class BpfErrno
{
    public const int EPERM = 1, ENOENT = 2, E2BIG = 7, EAGAIN = 11, ENOMEM = 12, EFAULT = 14, EBUSY = 16,
        EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOTSUPP = 524;
}
