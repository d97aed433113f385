using System.Net;
using Appliance.Datapath.Links;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class PingAcrossVethTests
{
    [PrivilegedFact]
    public void Two_namespaces_configured_through_our_api_ping_each_other_over_v4_and_v6()
    {
        using var scratch = new ScratchState();
        string left = scratch.Namespace("left"), right = scratch.Namespace("right");
        string l = NetNamespace.UniqueInterface("mapp"), r = NetNamespace.UniqueInterface("mapp");
        using var root = new LinkManager();
        using var owned = new OwnedLinks(root);
        owned.CreateNamespace(left);
        owned.CreateNamespace(right);

        using var inLeft = new LinkManager(left);
        using var inRight = new LinkManager(right);
        inLeft.CreateVethPair(l, r, peerNamespace: right);
        new LinkAddresses(inLeft).Add(l, IPAddress.Parse("10.201.7.1"), 24);
        new LinkAddresses(inRight).Add(r, IPAddress.Parse("10.201.7.2"), 24);
        new LinkAddresses(inLeft).Add(l, IPAddress.Parse("fd00:201:7::1"), 64);
        new LinkAddresses(inRight).Add(r, IPAddress.Parse("fd00:201:7::2"), 64);
        foreach (var (m, name) in new[] { (inLeft, l), (inRight, r), (inLeft, "lo"), (inRight, "lo") }) m.SetUp(name, true);

        var v4 = Shell.Run("ip", "netns", "exec", left, "ping", "-c", "3", "-i", "0.2", "-w", "10", "10.201.7.2");
        Assert.True(v4.ExitCode == 0, $"ping failed:\n{v4.StdOut}\n{v4.StdErr}");
        // With -w, ping sends until 3 replies came; a slow first reply (ARP) lets a 4th echo out whose reply may be
        // counted too ("4 packets transmitted, 4 received").
        var received = System.Text.RegularExpressions.Regex.Match(v4.StdOut, @"(\d+) received");
        Assert.True(received.Success && int.Parse(received.Groups[1].Value) >= 3, v4.StdOut);
        // Fresh IPv6 addresses are tentative until duplicate address detection ends (~1-2 s); until then ping
        // gets "address unreachable" at once, so try once a second for up to 15 s.
        Shell.Result v6 = Shell.Run("ip", "netns", "exec", right, "ping", "-6", "-c", "1", "-W", "1", "fd00:201:7::1");
        for (int attempt = 0; attempt < 15 && v6.ExitCode != 0; attempt++)
        {
            Thread.Sleep(1000);
            v6 = Shell.Run("ip", "netns", "exec", right, "ping", "-6", "-c", "1", "-W", "1", "fd00:201:7::1");
        }
        Assert.True(v6.ExitCode == 0, $"ping -6 failed:\n{v6.StdOut}\n{v6.StdErr}");

        var dup = Assert.Throws<Appliance.Interop.PlatformException>(() =>
            new LinkAddresses(inLeft).Add(l, IPAddress.Parse("10.201.7.1"), 24));
        Assert.Equal(Appliance.Errno.EEXIST, dup.Errno);
    }
}
