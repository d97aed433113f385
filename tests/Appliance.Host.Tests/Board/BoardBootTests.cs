using System.Text.RegularExpressions;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>The emulated board (QEMU virt, TCG) boots the image file like a real board boots its SD card and runs
/// the appliance: U-Boot reads extlinux.conf from the FAT partition, the initramfs mounts it at /boot, and the
/// arm64 NativeAOT binary checks /boot/config.json. Needs only qemu (no root).</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardBootTests(BootedBoard booted, ITestOutputHelper output) : IClassFixture<BootedBoard>
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private SerialConsole Console => booted.Board.Console;

    [Fact]
    public void BootsTheImageFileThroughUBootDistroBoot()
    {
        output.WriteLine(booted.Timings);
        var text = Console.Text;
        string[] sequence =
        [
            "Loading Environment from Flash... OK", "Scanning virtio 0:1...", "Found /extlinux/extlinux.conf",
            "Retrieving file: /initrd.gz", "Retrieving file: /Image", "Starting kernel",
            "MAPP: init: kernel ", "MAPP: boot partition /dev/vda1 mounted at /boot", "MAPP: READY",
        ];
        var at = 0;
        foreach (var marker in sequence)
        {
            var i = text.IndexOf(marker, at, StringComparison.Ordinal);
            Assert.True(i >= 0, $"console lacks '{marker}' after offset {at}:\n{text}");
            at = i + marker.Length;
        }
        Assert.DoesNotContain("Kernel panic", text);
        Assert.DoesNotContain("### BOOT FAILED", text);
        Assert.DoesNotMatch(@"MAPP: insmod \S+ FAILED", text);
        // Both NICs came up in the guest with the MACs the harness gave them.
        Assert.Matches(@"MAPP: port eth0: 52:54:00:00:00:10", text);
        Assert.Matches(@"MAPP: port eth1: 52:54:00:00:00:11", text);
        Assert.Matches(@"MAPP: gpio: gpiochip\d+ label=9030000\.pl061 ngpio=8", text);
    }

    [Fact]
    public void ApplianceReportsItsVersionAndValidatesTheConfigOnTheBootPartition()
    {
        var text = Console.Text;
        // The guest prints exactly what the same arm64 binary prints under qemu-user on the host.
        Environment.SetEnvironmentVariable("DOTNET_GCRegionRange", "40000000");
        var expected = Shell.Check("qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", RepoPaths.Binary("linux-arm64"), "--version").Trim();
        Environment.SetEnvironmentVariable("DOTNET_GCRegionRange", null);
        Assert.StartsWith("meta-appliance ", expected);
        Assert.Contains($"MAPP: version: {expected} (uptime ", text);
        Assert.Contains("MAPP: config /boot/config.json: valid", text);

        // Run again from the console: same binary, same file, exit code 0, and its peak RSS in the guest.
        var (rc, validateOutput) = Console.Run("time -f 'MAPP: validate peak-rss=%M kB wall=%e s' meta-appliance validate /boot/config.json", CommandTimeout);
        Assert.True(rc == 0, "meta-appliance validate /boot/config.json failed in the guest:\n" + validateOutput);
        var rss = Regex.Match(validateOutput, @"MAPP: validate peak-rss=(\d+) kB wall=([\d.]+) s");
        Assert.True(rss.Success, validateOutput);
        output.WriteLine($"guest: meta-appliance validate peak RSS {rss.Groups[1].Value} kB, wall {rss.Groups[2].Value} s (TCG)");
    }

    [Fact]
    public void ApplianceRssIsReportedWhileTheServiceRuns()
    {
        if (!GuestPath.ApplianceHasVerb(Console, "run"))
        {
            // The service verb has not landed: measure the longest-running verb there is instead and say so.
            var (rc, text) = Console.Run("time -f 'MAPP: version peak-rss=%M kB wall=%e s' meta-appliance --version", CommandTimeout);
            Assert.Equal(0, rc);
            var m = Regex.Match(text, @"MAPP: version peak-rss=(\d+) kB wall=([\d.]+) s");
            Assert.True(m.Success && int.Parse(m.Groups[1].Value) > 0, text);
            output.WriteLine($"no `run` verb yet: meta-appliance --version peak RSS {m.Groups[1].Value} kB, wall {m.Groups[2].Value} s in the guest");
            return;
        }
        var (code, outText) = Console.Run("appliance-rss", CommandTimeout);
        Assert.Equal(0, code);
        var r = Regex.Match(outText, @"MAPP: rss pid=(\d+) VmRSS=(\d+) kB VmHWM=(\d+) kB");
        Assert.True(r.Success, outText);
        output.WriteLine($"appliance RSS in the guest: VmRSS {r.Groups[2].Value} kB, VmHWM {r.Groups[3].Value} kB");
    }

    [Fact]
    public void GpioLineWrittenInTheGuestShowsInThePl061Trace()
    {
        // Line 7 is not used by the board's LEDs; libgpiod's gpioset (Debian arm64 gpiod) finds the chip by label.
        const int line = 7;
        var before = booted.Board.Trace.Levels(line).Count;
        for (var i = 0; i < 3; i++)
        {
            Console.Check($"gpioset 9030000.pl061 {line}=1", CommandTimeout);
            Console.Check($"gpioset 9030000.pl061 {line}=0", CommandTimeout);
        }
        var levels = booted.Board.Trace.Levels(line);
        var tail = levels.Skip(before).ToList();
        Assert.True(tail.Count >= 6 && tail.TakeLast(6).SequenceEqual([1, 0, 1, 0, 1, 0]),
            $"PL061 line {line} levels after the writes: [{string.Join(",", tail)}] (all: [{string.Join(",", levels)}])");
    }

    [Fact]
    public void FramesSentIntoEth0LeaveEth1ThroughAGuestBridge()
    {
        GuestPath.StartBridge(Console);
        try
        {
            var n = FrameExchange.AssertFramesCross(booted.Board.Ports[0], booted.Board.Ports[1], 20, TimeSpan.FromSeconds(30));
            output.WriteLine($"eth0 -> br0 -> eth1: {n} test frames received intact");
            FrameExchange.AssertFramesCross(booted.Board.Ports[1], booted.Board.Ports[0], 10, TimeSpan.FromSeconds(30));
        }
        finally
        {
            GuestPath.StopBridge(Console);
        }
    }

    [Fact]
    public void FramesSentIntoEth0LeaveEth1ThroughMetaApplianceForward()
    {
        Assert.True(GuestPath.ApplianceHasVerb(Console, "forward"),
            "meta-appliance has no `forward --in IF --out IF` verb yet (src/Appliance.Datapath + Commands); the NIC wiring itself is proven by the bridge test");
        GuestPath.StartForward(Console);
        try
        {
            var n = FrameExchange.AssertFramesCross(booted.Board.Ports[0], booted.Board.Ports[1], 20, TimeSpan.FromSeconds(30));
            output.WriteLine($"eth0 -> meta-appliance forward (AF_XDP) -> eth1: {n} test frames received intact");
        }
        finally
        {
            output.WriteLine(GuestPath.StopForward(Console));
        }
    }
}
