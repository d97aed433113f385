using static Tmds.Linux.LibC;

namespace Appliance.Host.Init;

/// <summary>What PID 1 mounts, as pure functions (the syscalls are behind <see cref="IInitPlatform"/>).
/// Early: /proc, /sys, /dev (devtmpfs: the kernel does not automount it for an initramfs), /run (tmpfs, for
/// the control socket). Then, after the modules are loaded (vfat and the disk driver are modules on Debian
/// kernels), the boot partition at /boot read-write, so the config can be edited from any PC and the
/// appliance can write last-known-good and error files beside it. No debugfs, no configfs.</summary>
public static class MountPlan
{
    public static IReadOnlyList<MountSpec> Early() =>
    [
        new("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC),
        new("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC),
        new("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"),
        new("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
    ];

    /// <summary>The boot (FAT) partition, read-write, nothing executable or device-like on it.</summary>
    public static MountSpec BootPartition(string device, string target, string fileSystemType) =>
        new(device, target, fileSystemType, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);

    /// <summary>The entries of <paramref name="plan"/> whose target is not mounted yet, in order.</summary>
    public static IReadOnlyList<MountSpec> Pending(IReadOnlyList<MountSpec> plan, IReadOnlySet<string> mountedTargets) =>
        [.. plan.Where(m => !mountedTargets.Contains(m.Target))];

    /// <summary>The first device of <paramref name="candidates"/> that exists, or null.</summary>
    public static string? FirstPresent(IEnumerable<string> candidates, Func<string, bool> exists) =>
        candidates.FirstOrDefault(exists);
}
