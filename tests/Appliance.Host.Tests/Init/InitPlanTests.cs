using Appliance.Host.Init;
using Appliance.Interop;
using Xunit;

namespace Appliance.Host.Tests.Init;

public sealed class InitPlanTests
{
    [Fact]
    public void Early_mounts_are_nosuid_and_proc_sys_are_noexec()
    {
        var plan = MountPlan.Early();
        Assert.All(plan, m => Assert.NotEqual(0UL, m.Flags & Tmds.Linux.LibC.MS_NOSUID));
        Assert.All(plan.Where(m => m.Target is "/proc" or "/sys"), m => Assert.NotEqual(0UL, m.Flags & Tmds.Linux.LibC.MS_NOEXEC));
        Assert.Equal("/proc", plan[0].Target); // first: everything after reads /proc/self/mounts
    }

    [Fact]
    public void Pending_leaves_out_mounted_targets_in_order()
    {
        var pending = MountPlan.Pending(MountPlan.Early(), new HashSet<string> { "/sys", "/run" });
        Assert.Equal(["/proc", "/dev"], pending.Select(m => m.Target));
    }

    [Fact]
    public void Mount_table_targets_are_unescaped()
    {
        var targets = MountTable.Targets("proc /proc proc rw 0 0\n/dev/vda1 /boot\\040part vfat rw 0 0\n");
        Assert.Equal(new HashSet<string> { "/proc", "/boot part" }, targets);
    }

    [Fact]
    public void Module_index_finds_modules_in_any_layout_with_dash_and_underscore_equivalent()
    {
        var index = new ModuleIndex(["/m/virtio_blk.ko", "/m/kernel/fs/nls/nls_ascii.ko.xz", "/m/kernel/net/failover.ko.zst", "/m/README"]);
        Assert.Equal(3, index.Count);
        Assert.Equal("/m/virtio_blk.ko", index.Find("virtio-blk"));
        Assert.Equal("/m/kernel/fs/nls/nls_ascii.ko.xz", index.Find("nls_ascii"));
        Assert.Null(index.Find("vfat"));
        Assert.False(ModuleIndex.IsCompressed("/m/virtio_blk.ko"));
        Assert.True(ModuleIndex.IsCompressed("/m/kernel/fs/nls/nls_ascii.ko.xz"));
    }

    [Fact]
    public void Module_list_keeps_order_and_drops_comments_and_blanks()
    {
        Assert.Equal(["virtio_mmio", "virtio_blk", "vfat"], ModuleList.Parse("virtio_mmio\n\n# the disk\nvirtio_blk  # block\n  vfat\n"));
    }

    [Theory]
    [InlineData(0x0300, 3, null)]
    [InlineData(0x0000, 0, null)]
    [InlineData(0x0009, null, 9)]
    [InlineData(0x008f, null, 15)] // core dumped flag 0x80 + SIGTERM
    public void Wait_status_decodes_exit_code_or_signal(int status, int? exitCode, int? signal)
    {
        var child = ReapedChild.FromWaitStatus(42, status);
        Assert.Equal(exitCode, child.ExitCode);
        Assert.Equal(signal, child.Signal);
    }
}
