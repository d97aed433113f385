using Appliance.Datapath.Links;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class StaleLinkSweeperTests
{
    [PrivilegedFact]
    public void Leftovers_of_a_dead_run_are_removed_and_live_ones_kept()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("stale");
        string deadA = scratch.Interface(), deadB = scratch.Interface();
        string liveA = scratch.Interface(), liveB = scratch.Interface();
        string untagged = scratch.Interface(), untaggedPeer = scratch.Interface();
        using var root = new LinkManager();

        // A registry of a process that no longer exists, never disposed: what a SIGKILL leaves behind.
        var dead = new OwnedLinks(root, DeadProcessTag());
        dead.CreateNamespace(ns);
        dead.CreateVethPair(deadA, deadB);
        using var live = new OwnedLinks(root);
        live.CreateVethPair(liveA, liveB);
        root.CreateVethPair(untagged, untaggedPeer); // created, then killed before it was tagged

        var removed = StaleLinkSweeper.Sweep(untaggedVethPrefix: untagged);

        Assert.Null(IpJson.Link(deadA));
        Assert.Null(IpJson.Link(deadB));
        Assert.False(IpJson.NamespaceExists(ns));
        Assert.Null(IpJson.Link(untagged));
        Assert.NotNull(IpJson.Link(liveA));
        Assert.Contains(removed, r => r.StartsWith(deadA, StringComparison.Ordinal));
        Assert.Contains(removed, r => r.StartsWith($"netns {ns}", StringComparison.Ordinal));
        Assert.Contains(removed, r => r.StartsWith(untagged, StringComparison.Ordinal));
        Assert.DoesNotContain(removed, r => r.Contains(liveA, StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public void A_veth_tagged_by_a_process_killed_with_SIGKILL_is_swept()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        // The shell tags the veth with its own PID and start time, exactly as OwnerTag does, then SIGKILLs itself.
        var r = Shell.Run("bash", "-c",
            $"ip link add {a} type veth peer name {b} && " +
            $"ip link set {a} alias \"{OwnerTag.Prefix}$$.$(cut -d' ' -f22 /proc/$$/stat):sh\" && kill -9 $$");
        Assert.Equal(128 + 9, r.ExitCode);
        var alias = IpJson.RequireLink(a).GetProperty("ifalias").GetString();
        Assert.True(OwnerTag.TryParse(alias, out var tag), $"'{alias}' should parse as an owner tag");
        Assert.False(tag.IsOwnerAlive());

        var removed = StaleLinkSweeper.Sweep();

        Assert.Null(IpJson.Link(a));
        Assert.Null(IpJson.Link(b));
        Assert.Contains(removed, x => x.StartsWith(a, StringComparison.Ordinal) && x.Contains(alias!, StringComparison.Ordinal));
    }

    [Fact]
    public void Owner_tag_round_trips_and_knows_whether_its_process_lives()
    {
        var mine = OwnerTag.ForThisProcess();
        Assert.True(OwnerTag.TryParse(mine.ToString(), out var parsed));
        Assert.Equal(mine, parsed);
        Assert.True(mine.IsOwnerAlive());
        Assert.False(DeadProcessTag().IsOwnerAlive());
        // Same PID, different start time: a reused PID is not the owner.
        Assert.False((mine with { StartTime = mine.StartTime + 1 }).IsOwnerAlive());
        Assert.False(OwnerTag.TryParse("meta-appliance", out _));
        Assert.False(OwnerTag.TryParse("someone else's alias", out _));
        Assert.False(OwnerTag.TryParse(null, out _));
    }

    /// <summary>A tag naming a process that has exited.</summary>
    private static OwnerTag DeadProcessTag()
    {
        using var p = System.Diagnostics.Process.Start("true")!;
        int pid = p.Id;
        p.WaitForExit();
        return new OwnerTag(pid, 1, "deadbeef");
    }
}
