using System.Text.RegularExpressions;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>The emulated board (QEMU virt, TCG) boots the image file like a real board boots its SD card and runs
/// the appliance: U-Boot reads extlinux.conf from the FAT partition, the initramfs mounts it at /boot, and the
/// arm64 NativeAOT binary checks /boot/config.json. Needs qemu and root (<see cref="BoardTools"/>).</summary>
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
            "Retrieving file: /initrd.gz", "Retrieving file: /Image.gz", "Uncompressing", "Starting kernel",
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
    public void ApplianceForwardsAndReportsItsRss()
    {
        var forwarding = booted.WaitForForwarding();
        output.WriteLine($"{booted.Timings}; boot to forwarding ('{forwarding.Value.Trim()}') {Console.ArrivalOf(forwarding.Index).TotalSeconds:0.00} s after QEMU started");
        var (rc, rss) = Console.Run("appliance-rss", CommandTimeout);
        Assert.Equal(0, rc);
        var m = Regex.Match(rss, @"MAPP: rss pid=\d+ VmRSS=(\d+) kB VmHWM=(\d+) kB");
        Assert.True(m.Success, rss);
        int vmRss = int.Parse(m.Groups[1].Value), vmHwm = int.Parse(m.Groups[2].Value);
        output.WriteLine($"appliance RSS in the guest while forwarding (2 ports, 2 pairs): VmRSS {vmRss} kB, VmHWM {vmHwm} kB");
        Assert.True(vmRss > 0, rss);
        Assert.True(vmHwm <= 32 * 1024, $"VmHWM {vmHwm} kB is over 32 MB\n{rss}");

        // Idle power: no traffic, the appliance's own CPU share (all its threads) over 30 s of guest time: at 100
        // ticks a second that resolves 0.03 %. Idle means after start-up's one-off work: the last good copy is saved
        // 30 s after the start (LastGoodAfter: a write to the FAT partition, the config watcher's wake-ups for it, about
        // 0.2 % of this window), so the window opens 35 s after forwarding began.
        var settle = TimeSpan.FromSeconds(35) - (Console.ArrivalOf(int.MaxValue) - Console.ArrivalOf(forwarding.Index));
        if (settle > TimeSpan.Zero) Thread.Sleep(settle);
        var (cpuRc, cpu) = Console.Run("appliance-cpu 30", CommandTimeout);
        Assert.Equal(0, cpuRc);
        var c = Regex.Match(cpu, @"MAPP: cpu pid=\d+ cpu=([\d.]+)% over 30 s");
        Assert.True(c.Success, cpu);
        var idle = double.Parse(c.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"appliance idle CPU in the guest: {idle:0.00} % of one CPU over 30 s (target: under 1 %)");
        // Which threads woke meanwhile, how often, and the ticks they used (a thread that never woke is not listed).
        foreach (Match t in Regex.Matches(cpu, @"MAPP: thread pid=\d+ name=(\S+) wakeups=(\d+) ticks=(\d+)"))
            output.WriteLine($"  thread {t.Groups[1].Value}: {t.Groups[2].Value} wake-ups, {t.Groups[3].Value} ticks in 30 s");
        // The target is 1 %. What an idle appliance still does is blink the heartbeat LED (4 edges per 1.26 s, 0.2–0.3 %
        // here: each wake-up of a thread costs TCG 0.7–0.9 ms); nothing else wakes on a timer. TCG charges the
        // guest for host time, so the same idle appliance reads more on a loaded host (0.23–0.33 % at load 1–10 on a
        // 2-core host; 0.80 % before the workers and the activity LED stopped waking on timers). Asserting the
        // target itself leaves that margin and still fails on a spinning thread (100 %), a 50 ms poller (~2 %) or a
        // 250 ms one (~0.5 % more).
        Assert.True(idle < 1.0, $"the idle appliance used {idle:0.00} % of a CPU over 30 s (target under 1 %; a spinning or polling thread?)\n{cpu}");
    }

    [Fact]
    public void ApplianceAnswersStatusOnTheBoard()
    {
        booted.WaitForForwarding();
        var (rc, text) = Console.Run("meta-appliance status", CommandTimeout);
        Assert.True(rc == 0, "`meta-appliance status` does not answer on the board (the service is `meta-appliance init`):\n" + text);
        Assert.Contains("eth0", text);
        Assert.Contains("tenant-a", text);
    }

    [Fact]
    public void BoardHasTheProfilesCoresAndItsPortsSpreadFlowsOverTheirQueues()
    {
        booted.WaitForForwarding();
        var profile = BoardProfileTests.Source(BuiltBoardImage.BoardName, "BOARD_WORKERS", "BOARD_QEMU_SMP", "BOARD_QEMU_QUEUES");
        int workers = int.Parse(profile["BOARD_WORKERS"]), cpus = int.Parse(profile["BOARD_QEMU_SMP"]), queues = int.Parse(profile["BOARD_QEMU_QUEUES"]);
        Assert.True(workers > 1 && cpus >= workers && queues >= workers, $"the qemu-virt profile should give several workers a core and a queue each: {string.Join(", ", profile)}");
        // The guest sees the profile's cores and every port uses that many queues.
        Assert.Contains($", {cpus} CPUs, uptime", Console.Text);
        foreach (var port in new[] { "eth0", "eth1" }) Assert.Matches($@"MAPP: port {port}: \S+ \S+ queues={queues}\b", Console.Text);

        // 64 UDP flows into eth0: the tap hashes them over eth0's queues (as a NIC's RSS would) and every queue's
        // interrupt count moves.
        var before = InputQueueInterrupts("eth0");
        SendFlowsToTenantA(64);
        var after = InputQueueInterrupts("eth0");
        var moved = after.Keys.Where(q => after[q] > before.GetValueOrDefault(q)).Order().ToList();
        output.WriteLine($"eth0 input queues with interrupts during 64 flows: {string.Join(" ", moved)} (of {after.Count})");
        Assert.True(after.Count == queues, $"eth0 has {after.Count} input queue interrupts, expected {queues}");
        Assert.True(moved.Count == queues, $"64 flows reached only eth0 queues {string.Join(",", moved)} of {queues}");
    }

    [Fact]
    public void StatusShowsAWorkerPerCoreEachOwningAQueueOfEveryPortAndFlowsSpreadOverThemToTheTenant()
    {
        booted.WaitForForwarding();
        var workers = int.Parse(BoardProfileTests.Source(BuiltBoardImage.BoardName, "BOARD_WORKERS")["BOARD_WORKERS"]);
        var status = Console.Check("meta-appliance status", CommandTimeout);
        output.WriteLine(status);
        Assert.Matches($@"(?m)^workers: {workers} running", status);
        // WORKER CPU LOOPS SLEEPS QUEUES: worker w owns queue w of both ports.
        var rows = Regex.Matches(status, @"(?m)^\s*(\d+)\s+\S+\s+\d+\s+\d+\s+(\S+/q\d+(?: \S+/q\d+)*)\s*$")
            .ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value.Split(' '));
        Assert.True(rows.Count == workers, $"status shows {rows.Count} worker rows, the board profile says {workers}:\n{status}");
        for (var w = 0; w < workers; w++)
        {
            Assert.Contains($"eth0/q{w}", rows[w]);
            Assert.Contains($"eth1/q{w}", rows[w]);
        }

        // 64 flows over eth0's queues: every frame reaches tenant-a, and every worker received some of them.
        var (txBefore, rxBefore) = TenantAndWorkerCounters("tenant-a");
        SendFlowsToTenantA(64);
        long delivered = 0;
        long[] received = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        do
        {
            var (tx, rx) = TenantAndWorkerCounters("tenant-a");
            delivered = tx - txBefore;
            received = rx.Zip(rxBefore, (a, b) => a - b).ToArray();
            if (delivered >= 64) break;
            Thread.Sleep(1000);
        } while (DateTime.UtcNow < deadline);
        output.WriteLine($"tenant-a received {delivered} of 64 frames; frames received per worker: {string.Join(" ", received)}");
        Assert.True(delivered >= 64, $"only {delivered} of 64 frames (one per flow, spread over eth0's queues) reached tenant-a");
        Assert.True(received.Length == workers && received.All(n => n > 0), $"not every worker received frames: {string.Join(" ", received)}");
    }

    /// <summary>From `stats --json`: frames the appliance sent into <paramref name="pair"/>'s tenant (its primary end's
    /// TX) and the frames each worker received so far.</summary>
    private (long TenantTx, long[] WorkerRx) TenantAndWorkerCounters(string pair)
    {
        var json = Console.Check("meta-appliance stats --json", CommandTimeout);
        using var doc = System.Text.Json.JsonDocument.Parse(json[json.IndexOf('{')..(json.LastIndexOf('}') + 1)]);
        var tx = doc.RootElement.GetProperty("ports").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == pair && p.GetProperty("kind").GetString() == "primary-end")
            .GetProperty("txPackets").GetInt64();
        var rx = doc.RootElement.GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("rxPackets").GetInt64()).ToArray();
        return (tx, rx);
    }

    /// <summary>Sends <paramref name="flows"/> UDP frames (<see cref="TestFrames.Udp"/>: flow i = source port 10000 + i),
    /// one per flow, from the wire into eth0 to tenant-a's MAC, paced 20 ms.</summary>
    private void SendFlowsToTenantA(int flows)
    {
        byte[] tenantMac = [0x02, 0, 0, 0, 0x0a, 0x02], frame = new byte[64];
        for (var i = 0; i < flows; i++)
        {
            TestFrames.Udp(frame, tenantMac, TestFrame.Source, i, 0);
            booted.Board.Ports[0].Send(frame);
            Thread.Sleep(20);
        }
    }

    /// <summary>Interrupts so far per RX queue of <paramref name="port"/> (its virtio device's "virtioN-input.Q"
    /// lines in the guest's /proc/interrupts, summed over the CPUs).</summary>
    private Dictionary<int, long> InputQueueInterrupts(string port)
    {
        var text = Console.Check($"grep \"$(basename $(readlink /sys/class/net/{port}/device))-input\\.\" /proc/interrupts", CommandTimeout);
        var counts = new Dictionary<int, long>();
        foreach (Match m in Regex.Matches(text, @"(?m)^\s*\d+:((?:\s+\d+)+)\s.*-input\.(\d+)\s*$"))
            counts[int.Parse(m.Groups[2].Value)] = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(long.Parse);
        Assert.True(counts.Count > 0, $"no input queue interrupts for {port}:\n{text}");
        return counts;
    }

    [Fact]
    public void StatusLedGoesFromBootBlinkToSteadyOn()
    {
        booted.WaitForForwarding();
        // status = PL061 line 0, active-high (board/qemu-virt/board.env, examples/qemu-virt.json).
        var levels = booted.Board.Trace.WaitSteady(0, 1, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(120));
        Assert.True(levels.Count >= 5, $"the status LED never blinked while booting: [{string.Join(",", levels)}]");
        output.WriteLine($"status LED: {levels.Count - 1} transitions, then steady on");
    }

    [Fact]
    public void LinkLedFollowsThePortGoingDownAndUp()
    {
        booted.WaitForForwarding();
        const int linkEth0 = 1; // link-eth0 = PL061 line 1, active-high
        booted.Board.Trace.WaitSteady(linkEth0, 1, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        booted.Board.SetLink(0, up: false);
        try
        {
            booted.Board.Trace.WaitSteady(linkEth0, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }
        finally
        {
            booted.Board.SetLink(0, up: true);
        }
        booted.Board.Trace.WaitSteady(linkEth0, 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void TenantAnswersArpFromTheWireThroughTheAppliance()
    {
        booted.WaitForForwarding();
        // tenant-a (examples/qemu-virt.json): uplink eth0, MAC 02:00:00:00:0a:02, 10.0.1.2/24. The broadcast request
        // goes port -> primary chain -> tenant; the reply comes back tenant -> peer chain -> eth0.
        var tenantIp = System.Net.IPAddress.Parse("10.0.1.2");
        var answered = ArpFrame.Ask(booted.Board.Ports[0], TestFrame.Source, System.Net.IPAddress.Parse("10.0.1.1"), tenantIp, 10, out var mac);
        Assert.True(answered, "no ARP reply from tenant-a (10.0.1.2) came back out of eth0");
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0x0a, 0x02 }, mac);
    }
}
