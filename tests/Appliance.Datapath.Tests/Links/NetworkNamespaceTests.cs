using Appliance.Datapath.Links;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class NetworkNamespaceTests
{
    [PrivilegedFact]
    public void Created_namespace_is_usable_by_iproute2_and_deleted_cleanly()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("nsapi");
        NetworkNamespace.Create(ns);
        Assert.True(NetworkNamespace.Exists(ns));
        Assert.Contains(ns, NetworkNamespace.List());
        // A fresh namespace holds only a (down) loopback, and `ip netns exec` can enter it.
        var links = Shell.Check("ip", "netns", "exec", ns, "ip", "-o", "link").Trim().Split('\n');
        Assert.Single(links);
        Assert.Contains("lo:", links[0]);

        NetworkNamespace.Delete(ns);
        Assert.False(NetworkNamespace.Exists(ns));
        Assert.False(IpJson.NamespaceExists(ns));
        var again = Assert.Throws<PlatformException>(() => NetworkNamespace.Delete(ns));
        Assert.Equal(Errno.ENOENT, again.Errno);
    }

    [PrivilegedFact]
    public void RunInside_acts_in_the_namespace_and_leaves_the_calling_thread_where_it_was()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("inside");
        string a = NetNamespace.UniqueInterface("mapp"), b = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns);
        Shell.Check("ip", "-n", ns, "link", "add", a, "type", "veth", "peer", "name", b);
        string before = ThreadNamespace();

        int inside = NetworkNamespace.RunInside(ns, () => SocketCalls.IfNameToIndex(a));
        Assert.NotEqual(0, inside);
        Assert.Equal(0, SocketCalls.IfNameToIndex(a));
        Assert.Equal(before, ThreadNamespace());
        Assert.NotEqual(before, NetworkNamespace.RunInside(ns, ThreadNamespace));

        var thrown = Assert.Throws<InvalidOperationException>(() =>
            NetworkNamespace.RunInside<int>(ns, () => throw new InvalidOperationException("inside failure")));
        Assert.Equal("inside failure", thrown.Message);
        Assert.Equal(before, ThreadNamespace());
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public void Names_that_are_not_plain_file_names_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => NetworkNamespace.PathOf(name));
    }

    private static string ThreadNamespace() => new FileInfo("/proc/thread-self/ns/net").LinkTarget!;
}
