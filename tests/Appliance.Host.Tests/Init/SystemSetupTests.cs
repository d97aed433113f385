using Appliance.Datapath.Diagnostics;
using Appliance.Host.Init;
using Appliance.Host.Tests.Leds;
using Appliance.Interop;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Init;

public sealed class SystemSetupTests
{
    private readonly FakeInitPlatform _platform = new();
    private readonly ApplianceState _state = new();
    private readonly StringWriter _log = new();
    private readonly FakeTimeSource _time = new();

    private SystemSetup Setup() => new(_platform, _state, _time, new Logger(_log));

    private static readonly InitOptions Options = new()
    {
        BootDevices = ["/dev/vda1", "/dev/mmcblk0p1"],
        ModulesListFile = "/etc/modules.load",
        ModulesDirectory = "/lib/modules",
    };

    private void BoardWithModules()
    {
        _platform.Files["/etc/modules.load"] = "# disk first\nvirtio_blk\nfat\nvfat\nnls_cp437\nnls-ascii\n";
        foreach (var m in new[] { "kernel/drivers/block/virtio_blk.ko.xz", "kernel/fs/fat/fat.ko.xz", "kernel/fs/fat/vfat.ko.xz", "kernel/fs/nls/nls_cp437.ko.xz", "kernel/fs/nls/nls_ascii.ko.xz", "kernel/drivers/net/virtio_net.ko.xz" })
            _platform.Files[$"/lib/modules/{m}"] = "";
    }

    /// <summary>Runs setup on its own thread (it sleeps on the virtual clock while polling for the boot device).</summary>
    private void RunSetup()
    {
        using var thread = new VirtualThread(_time, () => Setup().Run(Options));
        thread.RunToEnd(TimeSpan.FromMilliseconds(20), TimeSpan.FromMinutes(1));
        if (thread.Failure is not null) throw new InvalidOperationException("setup threw", thread.Failure);
    }

    [Fact]
    public void Mounts_proc_sys_dev_run_then_loads_modules_in_order_then_mounts_the_boot_partition_rw()
    {
        BoardWithModules();
        _platform.DevicesAfterPolls["/dev/vda1"] = 3; // appears ~60 ms after the disk driver loads
        RunSetup();

        Assert.Equal(["/proc", "/sys", "/dev", "/run", "/boot"], _platform.Mounts.Select(m => m.Target));
        Assert.Equal(["proc", "sysfs", "devtmpfs", "tmpfs", "vfat"], _platform.Mounts.Select(m => m.FileSystemType));
        var boot = _platform.Mounts[^1];
        Assert.Equal("/dev/vda1", boot.Source);
        Assert.Equal(0UL, boot.Flags & Tmds.Linux.LibC.MS_RDONLY);
        Assert.Equal(
            ["virtio_blk.ko.xz", "fat.ko.xz", "vfat.ko.xz", "nls_cp437.ko.xz", "nls_ascii.ko.xz"],
            _platform.LoadedModules.Select(Path.GetFileName));
        Assert.False(_state.HasFault, _log.ToString());
    }

    [Fact]
    public void Already_mounted_targets_and_ebusy_are_skipped_not_errors()
    {
        _platform.MountedTargets.Add("/proc");
        _platform.MountedTargets.Add("/sys");
        _platform.MountErrno["/dev"] = Errno.EBUSY;
        var failures = Setup().MountAll(MountPlan.Early());
        Assert.Empty(failures);
        Assert.Equal(["/run"], _platform.Mounts.Select(m => m.Target));
    }

    [Fact]
    public void Missing_modules_and_boot_device_raise_an_init_fault_but_setup_completes()
    {
        BoardWithModules();
        _platform.Files["/etc/modules.load"] += "no_such_module\n";
        _platform.ModuleErrno["fat.ko.xz"] = Errno.EEXIST; // already loaded: fine
        _platform.ModuleErrno["nls_cp437.ko.xz"] = Errno.EINVAL;
        RunSetup();

        var fault = Assert.Single(_state.Faults);
        Assert.Equal(SystemSetup.FaultSource, fault.Key);
        Assert.Contains("no_such_module", fault.Value);
        Assert.Contains("nls_cp437", fault.Value);
        Assert.Contains("no boot partition", fault.Value);
        Assert.DoesNotContain("fat.ko", fault.Value.Replace("vfat", "").Replace("nls", ""));
        Assert.Equal(["/proc", "/sys", "/dev", "/run"], _platform.Mounts.Select(m => m.Target));
        Assert.True(_time.Now >= Options.BootDeviceTimeout, $"gave up after {_time.Now}, before the {Options.BootDeviceTimeout} timeout");
    }
}
