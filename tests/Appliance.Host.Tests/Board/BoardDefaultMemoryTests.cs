using System.Net;
using System.Text.RegularExpressions;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>The example config without its `memory` member: the board's defaults (512 frames, 512-entry rings, so
/// 2.25 MiB of UMEM per worker), the size a user gets who leaves memory out: each UMEM takes the huge-page path (a
/// 2 MiB-aligned area that asks for transparent huge pages). The board's kernel turns THP off on a machine under
/// 512 MB (its own default for small systems; the emulated board has 512 MB, less after the kernel's reservations),
/// so the advice does nothing there: the UMEMs are ordinary pages (AnonHugePages 0), and the appliance forwards
/// (tenant-a answers ARP through eth0) with its memory inside what the README says for these defaults. Where THP is
/// on, the UMEMs must be on huge pages.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardDefaultMemoryTests(BootedBoardWithDefaultMemory booted, ITestOutputHelper output) : IClassFixture<BootedBoardWithDefaultMemory>
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void WithTheBoardsDefaultMemoryTheApplianceForwardsAndItsUmemsFollowTheKernelsThpSetting()
    {
        booted.WaitForForwarding();
        Assert.True(ArpFrame.Ask(booted.Board.Ports[0], TestFrame.Source, IPAddress.Parse("10.0.1.1"), IPAddress.Parse("10.0.1.2"), 10, out var mac),
            "tenant-a does not answer ARP with the board's default memory");
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0x0a, 0x02 }, mac);

        var text = booted.Board.Console.Check(
            "echo THP=$(cat /sys/kernel/mm/transparent_hugepage/enabled); P=$(pidof meta-appliance); " +
            "grep -E '^(AnonHugePages|Rss):' /proc/$P/smaps_rollup; grep -E '^Vm(RSS|HWM):' /proc/$P/status", CommandTimeout);
        output.WriteLine(text.Trim());
        var thp = Regex.Match(text, @"THP=.*\[(\w+)\]");
        var huge = Regex.Match(text, @"AnonHugePages:\s+(\d+) kB");
        Assert.True(thp.Success && huge.Success, text);
        long hugeKb = long.Parse(huge.Groups[1].Value);
        if (thp.Groups[1].Value == "never") Assert.Equal(0, hugeKb);
        else Assert.True(hugeKb >= 2048, $"THP is {thp.Groups[1].Value} but the UMEMs are not on huge pages: {text}");
        var hwm = Regex.Match(text, @"VmHWM:\s+(\d+) kB");
        Assert.True(hwm.Success && long.Parse(hwm.Groups[1].Value) <= 64 * 1024, $"VmHWM above 64 MB with the board defaults: {text}");
    }
}
