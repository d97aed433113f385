using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>`image/build-image.sh qemu-virt` builds, without root, an SD image whose FAT partition holds what a
/// board boots from, with an initramfs carrying busybox, glibc, libgpiod, the modules and the arm64 appliance.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardImageTests(ITestOutputHelper output)
{
    [Fact]
    public void FatBootPartitionHoldsKernelInitramfsExtlinuxConfigAndPrograms()
    {
        var image = BuiltBoardImage.Instance;
        var fat = new FatPartition(image.SdCard);
        output.WriteLine($"image {new FileInfo(image.SdCard).Length / 1048576} MiB, built in {image.BuildTime.TotalSeconds:0.0} s; " +
                         string.Join(", ", image.Info.Select(kv => $"{kv.Key}={kv.Value}")));

        Assert.Equal(1 << 20, fat.Offset); // partition 1 aligned at 1 MiB, as SD cards want
        long bytes = new FileInfo(image.SdCard).Length;
        Assert.True(bytes <= 32L << 20, $"the image is {bytes} bytes, more than 32 MiB");
        var partition = Shell.Check("partx", "-g", "-o", "TYPE,FLAGS", "-n", "1", image.SdCard).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["0xe", "0x80"], partition); // FAT16 (LBA), bootable: under 64 MiB
        // The FAT is sized from its content plus the profile's documented free space.
        Environment.SetEnvironmentVariable("MTOOLS_SKIP_CHECK", "1");
        var listing = Shell.Check("mdir", "-i", $"{image.SdCard}@@{fat.Offset}", "::");
        var free = System.Text.RegularExpressions.Regex.Match(listing, @"([\d ]+) bytes free");
        Assert.True(free.Success, listing);
        long freeBytes = long.Parse(free.Groups[1].Value.Replace(" ", ""));
        Assert.True(freeBytes >= long.Parse(image.Info["BOOT_FREE_MIB"]) << 20, $"{freeBytes} bytes free, fewer than BOOT_FREE_MIB={image.Info["BOOT_FREE_MIB"]} MiB");
        Assert.True(freeBytes < (long.Parse(image.Info["BOOT_FREE_MIB"]) + 3) << 20, $"{freeBytes} bytes free: the FAT is not sized from its content");

        var files = fat.ListFiles();
        foreach (var expected in new[] { "/Image.gz", "/initrd.gz", "/extlinux/extlinux.conf", "/config.json" })
            Assert.Contains(expected, files);
        var programs = Directory.Exists(Path.Combine(RepoPaths.Out, "programs"))
            ? Directory.GetFiles(Path.Combine(RepoPaths.Out, "programs"), "*.bpf.o") : [];
        foreach (var o in programs) Assert.Contains("/programs/" + Path.GetFileName(o), files);

        var extlinux = fat.ReadText("/extlinux/extlinux.conf");
        Assert.Matches(@"(?m)^\s*kernel /Image\.gz\s*$", extlinux);
        Assert.Matches(@"(?m)^\s*initrd /initrd\.gz\s*$", extlinux);
        Assert.Matches(@"(?m)^\s*append console=ttyAMA0\b.*\bpanic=-1\b", extlinux);

        // The example config, with program objects pointing beside it on the FAT partition.
        var example = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples/qemu-virt.json"));
        Assert.Equal(example.Replace("\"../programs/", "\"programs/"), fat.ReadText("/config.json"));

        // The kernel is a gzip-compressed arm64 Image (booti decompresses it): magic "ARM\x64" = "ARMd" at offset 56.
        var kernel = Path.Combine(Path.GetTempPath(), $"mapp-image-{Environment.ProcessId}-Image.gz");
        try
        {
            Shell.Check("mcopy", "-n", "-i", $"{image.SdCard}@@{fat.Offset}", "::/Image.gz", kernel);
            using var gz = new System.IO.Compression.GZipStream(File.OpenRead(kernel), System.IO.Compression.CompressionMode.Decompress);
            var header = new byte[64];
            gz.ReadExactly(header);
            Assert.Equal("ARMd"u8.ToArray(), header.AsSpan(56, 4).ToArray());
        }
        finally
        {
            File.Delete(kernel);
        }
    }

    [Fact]
    public void InitramfsCarriesBusyboxLibcLibgpiodModulesAndTheApplianceBinary()
    {
        var image = BuiltBoardImage.Instance;
        var fat = new FatPartition(image.SdCard);
        var dir = Directory.CreateTempSubdirectory("mapp-initrd-").FullName;
        try
        {
            Environment.SetEnvironmentVariable("MTOOLS_SKIP_CHECK", "1");
            Shell.Check("mcopy", "-n", "-i", $"{image.SdCard}@@{fat.Offset}", "::/initrd.gz", Path.Combine(dir, "initrd.gz"));
            Shell.Check("sh", "-c", $"cd '{dir}' && mkdir root && cd root && gzip -dc ../initrd.gz | cpio -i -d --quiet");
            var root = Path.Combine(dir, "root");
            foreach (var f in new[] { "init", "bin/busybox", "usr/bin/meta-appliance", "lib/ld-linux-aarch64.so.1",
                         "lib/aarch64-linux-gnu/libc.so.6", "lib/aarch64-linux-gnu/libm.so.6",
                         "usr/lib/aarch64-linux-gnu/libgpiod.so.2", "usr/bin/gpioset", "etc/modules.load", "etc/board.env",
                         "usr/sbin/appliance-poweroff", "usr/sbin/appliance-rss" })
                Assert.True(File.Exists(Path.Combine(root, f)), $"initramfs lacks /{f}");

            Assert.Equal(File.ReadAllBytes(RepoPaths.Binary("linux-arm64")), File.ReadAllBytes(Path.Combine(root, "usr/bin/meta-appliance")));

            // Modules in load order: every listed module is there, dependencies before their users.
            var modules = File.ReadAllLines(Path.Combine(root, "etc/modules.load")).Where(l => l.Length > 0).ToList();
            foreach (var m in modules) Assert.True(File.Exists(Path.Combine(root, "lib/modules", m + ".ko")), $"lib/modules/{m}.ko missing");
            foreach (var m in new[] { "virtio_blk", "vfat", "nls_cp437", "nls_ascii", "virtio_net", "veth" }) Assert.Contains(m, modules);
            Assert.True(modules.IndexOf("fat") < modules.IndexOf("vfat"), "fat must load before vfat");
            Assert.True(modules.IndexOf("net_failover") < modules.IndexOf("virtio_net"), "net_failover must load before virtio_net");
            // busybox insmod needs plain ELF modules, not .ko.xz.
            Assert.Equal("\x7f" + "ELF", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(root, "lib/modules/virtio_net.ko")).AsSpan(0, 4)));
            output.WriteLine($"modules: {string.Join(' ', modules)}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SecondBuildDownloadsNothing()
    {
        _ = BuiltBoardImage.Instance; // the first build filled image/cache/
        var log = BoardTools.RunScript(TimeSpan.FromMinutes(5), "image/build-image.sh", BuiltBoardImage.BoardName, "--fetch-only");
        Assert.DoesNotContain("downloading", log);
        var debs = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.EndsWith(".deb")).ToList();
        Assert.Equal(5, debs.Count); // kernel, busybox-static, libc6, libgpiod2, gpiod
        foreach (var d in debs)
        {
            Assert.StartsWith(Path.Combine(RepoPaths.Root, "image/cache/debs") + "/", d);
            Assert.EndsWith("_arm64.deb", d);
            Assert.True(File.Exists(d), d);
        }
    }
}
