using Appliance.Datapath.Diagnostics;
using Appliance.Host.Init;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Tests.Init;

/// <summary>The real mount(2) path: a tmpfs on a fresh temporary directory (nothing shared is touched),
/// seen in /proc/self/mounts, skipped as already mounted the second time, unmounted afterwards.</summary>
[Collection(KernelCollection.Name)]
public sealed class LinuxInitPlatformTests
{
    [PrivilegedFact]
    public void Mounts_a_tmpfs_and_sees_it_in_the_mount_table()
    {
        var target = Path.Combine(Path.GetTempPath(), $"mapp-mnt-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var spec = new MountSpec("mapp-test", target, "tmpfs", Tmds.Linux.LibC.MS_NOSUID | Tmds.Linux.LibC.MS_NODEV, "size=1m,mode=0700");
        var log = new StringWriter();
        var setup = new SystemSetup(LinuxInitPlatform.Instance, new ApplianceState(), MonotonicTimeSource.Instance, new Logger(log));
        try
        {
            Assert.Empty(setup.MountAll([spec]));
            Assert.Contains(target, MountTable.Targets(File.ReadAllText("/proc/self/mounts")));
            File.WriteAllText(Path.Combine(target, "probe"), "x");

            Assert.Empty(setup.MountAll([spec])); // second time: already mounted, not mounted twice
            Assert.Contains("already mounted", log.ToString());
            Assert.Single(File.ReadAllLines("/proc/self/mounts"), l => l.Split(' ')[1] == target);
        }
        finally
        {
            Shell.Run("umount", target);
            Directory.Delete(target, recursive: true);
        }
    }

    [PrivilegedFact]
    public void A_failing_mount_names_the_mount_and_the_errno()
    {
        var e = Assert.Throws<PlatformException>(() =>
            LinuxInitPlatform.Instance.Mount(new MountSpec("/dev/mapp-no-such-disk", Path.Combine(Path.GetTempPath(), $"mapp-nomnt-{Guid.NewGuid():N}"), "vfat", 0)));
        Assert.Contains("mount", e.Message);
        Assert.Contains("/dev/mapp-no-such-disk", e.Message);
        Assert.Contains("vfat", e.Message);
    }
}
