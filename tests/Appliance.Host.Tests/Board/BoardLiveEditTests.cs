using System.Net;
using System.Text.RegularExpressions;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>A user on the running board edits /boot/config.json in place (busybox sed, as over SSH): a pair is added
/// and a chain's program changed. The appliance (`init`, which watches the file and asks for confirmation of an
/// edit) applies both live, without a reboot; `meta-appliance confirm` keeps them. tenant-a, untouched by the edit,
/// answers the ARP requests sent to it throughout and is not re-created (same ifindex, its primary end's counters
/// go on counting).</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardLiveEditTests(BootedBoard booted, ITestOutputHelper output) : IClassFixture<BootedBoard>
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly byte[] Asker = TestFrame.Source;
    private static readonly IPAddress AskerIp = IPAddress.Parse("10.0.1.1"), TenantA = IPAddress.Parse("10.0.1.2"), TenantC = IPAddress.Parse("10.0.1.3");
    private SerialConsole Console => booted.Board.Console;

    [Fact]
    public void AnEditOfTheConfigOnTheBoardAppliesLiveAndTenantAKeepsAnswering()
    {
        booted.WaitForForwarding();
        var port = booted.Board.Ports[0];
        Assert.True(Ask(port, TenantA, 10, out var macA), "tenant-a does not answer ARP before the edit");
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0x0a, 0x02 }, macA);
        var (ifindexBefore, rxBefore) = TenantLink("tenant-a");

        // tenant-a's neighbour keeps asking (every 200 ms) while the board is edited.
        int asked = 0, answered = 0;
        var stop = false;
        var asking = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                asked++;
                if (Ask(port, TenantA, 1, out _, TimeSpan.FromMilliseconds(200))) answered++;
            }
        }) { IsBackground = true };
        asking.Start();

        const string tenantC = """{ "name": "tenant-c", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "tenant-c", "interface": "eth0", "mac": "02:00:00:00:0c:02", "addresses": ["10.0.1.3/24"] } },""";
        Console.Check("sed -i -e 's#^  \"pairs\": \\[#  \"pairs\": [ " + tenantC + "#' " +
                      "-e 's#{ \"program\": \"vlan-100\" }#{ \"program\": \"count\" }#' " +
                      "-e 's#{ \"program\": \"vlan-100-in\" }#{ \"program\": \"count\" }#' /boot/config.json && grep -c tenant-c /boot/config.json", CommandTimeout);
        var applied = Console.WaitFor(@"create +pair tenant-c|reload refused[^\n]*", TimeSpan.FromSeconds(90));
        Assert.DoesNotContain("refused", applied.Value);
        var status = Console.Check("meta-appliance status", CommandTimeout);
        Assert.Contains("tenant-c", status);
        Assert.Contains("pending confirmation", status);
        Console.Check("meta-appliance confirm", CommandTimeout);

        Volatile.Write(ref stop, true);
        asking.Join();
        output.WriteLine($"tenant-a during the edit: {answered} of {asked} ARP requests answered");
        Assert.True(answered > 0, $"tenant-a answered none of {asked} ARP requests during the edit");

        var (ifindexAfter, rxAfter) = TenantLink("tenant-a");
        Assert.Equal(ifindexBefore, ifindexAfter); // tenant-a was not re-created
        Assert.True(rxAfter >= rxBefore + answered, $"tenant-a's primary end counted {rxBefore} packets before and {rxAfter} after (re-created?)");
        Assert.True(Ask(port, TenantC, 10, out var macC), "the added tenant-c does not answer ARP");
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0x0c, 0x02 }, macC);
        var pairs = Console.Check("meta-appliance pairs", CommandTimeout);
        output.WriteLine(pairs);
        Assert.Matches(new Regex(@"tenant-b\s+peer\b[^\n]*count"), pairs);
        Assert.DoesNotContain("vlan-100", pairs);
        Assert.DoesNotContain("pending confirmation", Console.Check("meta-appliance status", CommandTimeout));
        Assert.Single(Regex.Matches(Console.Text, "MAPP: READY")); // no reboot
        Assert.DoesNotMatch("appliance exited", Console.Text); // nor a restart of the service
    }

    /// <summary>The pair's primary end (named after the pair, in the board's namespace): its ifindex and its
    /// rx + tx packets (busybox has no `ip netns exec`).</summary>
    private (int Ifindex, long Packets) TenantLink(string pair)
    {
        var d = $"/sys/class/net/{pair}";
        var text = Console.Check($"echo IFX=$(cat {d}/ifindex) PK=$(( $(cat {d}/statistics/rx_packets) + $(cat {d}/statistics/tx_packets) ))", CommandTimeout);
        var m = Regex.Match(text, @"IFX=(\d+) PK=(\d+)");
        Assert.True(m.Success, text);
        return (int.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value));
    }

    private static bool Ask(BoardPort port, IPAddress target, int attempts, out byte[] mac, TimeSpan? wait = null) =>
        ArpFrame.Ask(port, Asker, AskerIp, target, attempts, out mac, wait);
}
