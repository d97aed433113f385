using System.Net;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>On the running emulated board, a user edits /boot/config.json from the guest's shell (as over SSH) to add
/// a tenant: the appliance applies the edit by itself (inotify), `meta-appliance confirm` keeps it (on a board an
/// edit waits for confirm), the new tenant answers ARP from the wire, and the existing tenant still does — no reboot.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardLiveEditTests(BootedBoard booted, ITestOutputHelper output) : IClassFixture<BootedBoard>
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private SerialConsole Console => booted.Board.Console;

    [Fact]
    public void AddingAPairToTheConfigFileReachesTheNewTenantWithoutAReboot()
    {
        Console.WaitFor(@"runtime: forwarding ports=\d+ pairs=\d+|meta-appliance: forwarding \(\d+ ports?, \d+ pairs?\)", TimeSpan.FromSeconds(150));
        Assert.True(Answers("10.0.1.2", [0x02, 0, 0, 0, 0x0a, 0x02]), "tenant-a answers ARP before the edit");

        const string pair = """{ "name": "tenant-c", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "tenant-c", "interface": "eth0", "mac": "02:00:00:00:0c:02", "addresses": ["10.0.1.3/24"] } },""";
        Console.Check($"sed -i 's#\"pairs\": \\[#\"pairs\": [ {pair}#' /boot/config.json", CommandTimeout);
        string status = "";
        for (int i = 0; i < 60 && !status.Contains("tenant-c"); i++)
        {
            Thread.Sleep(1000);
            status = Console.Run("meta-appliance status", CommandTimeout).Output;
        }
        output.WriteLine(status);
        Assert.Contains("tenant-c", status);
        Assert.Contains("pending confirmation", status);
        var confirmed = Console.Run("meta-appliance confirm", CommandTimeout);
        Assert.True(confirmed.ExitCode == 0, confirmed.Output);

        Assert.True(Answers("10.0.1.3", [0x02, 0, 0, 0, 0x0c, 0x02]), "the new tenant-c answers ARP from the wire");
        Assert.True(Answers("10.0.1.2", [0x02, 0, 0, 0, 0x0a, 0x02]), "tenant-a still answers after the edit");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(Console.Text, "Starting kernel")); // no reboot
    }

    /// <summary>An ARP request for <paramref name="ip"/> sent into eth0 is answered by <paramref name="mac"/> (as in
    /// <see cref="BoardBootTests"/>: the broadcast goes port → primary chain → tenant, the reply back out of eth0).</summary>
    private bool Answers(string ip, byte[] mac)
    {
        byte[] asker = [0x02, 0, 0, 0, 0, 0x01];
        var target = IPAddress.Parse(ip);
        var port = booted.Board.Ports[0];
        for (var attempt = 0; attempt < 10; attempt++)
        {
            port.Drain();
            port.Send(ArpFrame.Request(asker, IPAddress.Parse("10.0.1.1"), target));
            byte[] from = [];
            var replies = port.Receive(TimeSpan.FromSeconds(3), got => got.Any(f => ArpFrame.IsReplyFor(f, asker, target, out _)))
                .Where(f => ArpFrame.IsReplyFor(f, asker, target, out from)).ToList();
            if (replies.Count > 0) return from.AsSpan().SequenceEqual(mac);
        }
        return false;
    }
}
