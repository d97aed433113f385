using System.Collections.Concurrent;
using Appliance.Datapath.Links;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class LinkWatcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [PrivilegedFact]
    public void Carrier_follows_the_peer_and_deletion_is_reported()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("watch");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns);
        using var root = new LinkManager();
        root.CreateVethPair(primary, tenant, peerNamespace: ns);
        using var inside = new LinkManager(ns);
        inside.SetUp(tenant, true);

        var events = new BlockingCollection<LinkEvent>();
        var errors = new ConcurrentQueue<Exception>();
        using (var watcher = new LinkWatcher(events.Add, ns, [tenant], errors.Enqueue))
        {
            root.SetUp(primary, true);
            var up = Next(events, LinkEventKind.CarrierUp);
            Assert.Equal(tenant, up.Link.Name);
            Assert.True(up.Link.Carrier);
            Assert.Equal(ns, up.Namespace);

            root.SetUp(primary, false);
            var down = Next(events, LinkEventKind.CarrierDown);
            Assert.False(down.Link.Carrier);
            Assert.True(down.Link.IsUp); // the tenant end itself stays administratively up

            inside.SetUp(tenant, false);
            Next(events, LinkEventKind.AdminDown);

            root.Delete(primary); // takes the tenant end with it
            var deleted = Next(events, LinkEventKind.Deleted);
            Assert.Equal(tenant, deleted.Link.Name);
        }
        Assert.Empty(errors);
    }

    [PrivilegedFact]
    public void Deleting_the_tenant_namespace_is_seen_as_deletion_of_the_primary_end()
    {
        using var scratch = new ScratchState();
        string ns = scratch.Namespace("gone");
        string primary = scratch.Interface(), tenant = NetNamespace.UniqueInterface("mapp");
        NetworkNamespace.Create(ns);
        using var root = new LinkManager();
        root.CreateVethPair(primary, tenant, peerNamespace: ns);
        var events = new BlockingCollection<LinkEvent>();
        using var watcher = new LinkWatcher(events.Add, names: [primary]);

        Shell.Check("ip", "netns", "del", ns); // the tenant removes its namespace behind our back

        var deleted = Next(events, LinkEventKind.Deleted);
        Assert.Equal(primary, deleted.Link.Name);
        Assert.Null(root.TryGet(primary));
    }

    [PrivilegedFact]
    public void Only_watched_interfaces_are_reported_and_renames_are_followed()
    {
        using var scratch = new ScratchState();
        string watched = scratch.Interface(), peer = scratch.Interface(), renamed = scratch.Interface();
        string other = scratch.Interface(), otherPeer = scratch.Interface();
        using var root = new LinkManager();
        var events = new BlockingCollection<LinkEvent>();
        using var watcher = new LinkWatcher(events.Add, names: [watched]);

        root.CreateVethPair(other, otherPeer);          // not watched: no event
        root.CreateVethPair(watched, peer);
        var added = Next(events, LinkEventKind.Added);
        Assert.Equal(watched, added.Link.Name);

        Shell.Check("ip", "link", "set", watched, "name", renamed);
        var rename = Next(events, LinkEventKind.Renamed);
        Assert.Equal(watched, rename.PreviousName);
        Assert.Equal(renamed, rename.Link.Name);

        root.SetMtu(renamed, 1280);                     // still followed by ifindex
        var changed = Next(events, LinkEventKind.Changed);
        Assert.Equal(1280, changed.Link.Mtu);

        Assert.DoesNotContain(events.ToArray(), e => e.Link.Name is var n && (n == other || n == otherPeer));
    }

    [PrivilegedFact]
    public void Dispose_stops_the_thread_promptly()
    {
        var events = new BlockingCollection<LinkEvent>();
        var watcher = new LinkWatcher(events.Add);
        var started = Environment.TickCount64;
        watcher.Dispose();
        Assert.True(Environment.TickCount64 - started < 5000, "Dispose should wake the poll and join at once");
        watcher.Dispose(); // idempotent
    }

    [PrivilegedFact]
    public void Dispose_from_inside_the_callback_ends_the_watcher_without_further_events()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        using var root = new LinkManager();
        var events = new BlockingCollection<LinkEvent>();
        var errors = new ConcurrentQueue<Exception>();
        LinkWatcher? watcher = null;
        watcher = new LinkWatcher(e =>
        {
            events.Add(e);
            watcher!.Dispose();
        }, names: [a, b], onError: errors.Enqueue);
        root.CreateVethPair(a, b);
        Assert.True(events.TryTake(out var first, Patience), "the first event should arrive");
        Assert.Equal(LinkEventKind.Added, first.Kind);
        root.SetUp(a, true);
        root.SetUp(b, true);
        Thread.Sleep(300);
        Assert.Empty(events);
        Assert.Empty(errors);
    }

    [PrivilegedFact]
    public void Lost_notifications_are_recovered_by_a_resync()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        using var root = new LinkManager();
        var events = new BlockingCollection<LinkEvent>();
        using var release = new ManualResetEventSlim(false);
        bool stall = false;
        // A tiny kernel queue and a callback that stalls once armed: the burst below overflows it (ENOBUFS).
        using var watcher = new LinkWatcher(e =>
        {
            events.Add(e);
            if (Volatile.Read(ref stall)) release.Wait(Patience);
        }, names: [a, b], receiveBufferBytes: 1024);
        var second = new ConcurrentQueue<LinkEvent>(); // another subscriber: the resync's events reach it too
        using var alsoSubscribed = watcher.Subscribe(second.Enqueue);
        root.CreateVethPair(a, b);
        var added = new HashSet<string>();
        while (added.Count < 2 && events.TryTake(out var e, Patience))
            if (e.Kind == LinkEventKind.Added) added.Add(e.Link.Name);
        Assert.Equal(2, added.Count);

        Volatile.Write(ref stall, true);
        for (int i = 0; i < 100; i++) root.SetMtu(a, 1300 + i % 50);
        root.Delete(a); // the deletion notifications are among those dropped
        release.Set();

        var deleted = new HashSet<string>();
        var seen = new List<LinkEvent>();
        var deadline = DateTime.UtcNow + Patience;
        while (deleted.Count < 2 && DateTime.UtcNow < deadline)
        {
            if (!events.TryTake(out var e, TimeSpan.FromMilliseconds(200))) continue;
            seen.Add(e);
            if (e.Kind == LinkEventKind.Deleted) deleted.Add(e.Link.Name);
        }
        while (events.TryTake(out var late, TimeSpan.FromMilliseconds(500))) seen.Add(late); // anything replayed late
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal).ToArray(), deleted.Order(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        Assert.DoesNotContain(seen, e => e.Kind == LinkEventKind.Added); // no stale replay after the resync
        Assert.True(seen.Count < 100, $"most of the 100 MTU changes should have been lost to the overflow, saw {seen.Count} events");
        Assert.True(Eventually.True(() => second.Count(e => e.Kind == LinkEventKind.Deleted) >= 2, (int)Patience.TotalMilliseconds), "the other subscriber gets the resync's deletions too");
        Assert.Equal(deleted.Order(StringComparer.Ordinal), second.Where(e => e.Kind == LinkEventKind.Deleted).Select(e => e.Link.Name).Order(StringComparer.Ordinal));
    }

    [PrivilegedFact]
    public void A_throwing_subscriber_is_reported_and_the_others_still_get_every_event()
    {
        using var ns = new NetNamespace("fan");
        var errors = new ConcurrentQueue<Exception>();
        var ownErrors = new ConcurrentQueue<Exception>();
        var first = new BlockingCollection<LinkEvent>();
        var last = new BlockingCollection<LinkEvent>();
        using var watcher = new LinkWatcher(netns: ns.Name, onError: errors.Enqueue);
        using var a = watcher.Subscribe(first.Add);
        using var thrower = watcher.Subscribe(e => throw new InvalidOperationException($"subscriber fault on {e.Link.Name}"));
        using var ownThrower = watcher.Subscribe(_ => throw new FormatException("with its own handler"), ownErrors.Enqueue);
        using var b = watcher.Subscribe(last.Add);
        Assert.Equal(4, watcher.Subscribers);

        ns.Exec("ip", "link", "add", "fan0", "type", "veth", "peer", "name", "fan1");
        ns.Exec("ip", "link", "set", "fan0", "up");
        ns.Exec("ip", "link", "set", "fan1", "up");
        foreach (var events in new[] { first, last })
        {
            var up = Next(events, LinkEventKind.CarrierUp);
            Assert.Equal(ns.Name, up.Namespace);
        }
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.StartsWith("subscriber fault on fan", Assert.IsType<InvalidOperationException>(e).Message));
        Assert.NotEmpty(ownErrors);
        Assert.All(ownErrors, e => Assert.IsType<FormatException>(e));
    }

    [PrivilegedFact]
    public void Unsubscribing_stops_delivery_to_that_subscriber_only()
    {
        using var ns = new NetNamespace("unsub");
        var leaving = new BlockingCollection<LinkEvent>();
        var staying = new BlockingCollection<LinkEvent>();
        using var watcher = new LinkWatcher(netns: ns.Name);
        var subscription = watcher.Subscribe(leaving.Add); // delivered before `staying`: a later event it still got would be there first
        using var stays = watcher.Subscribe(staying.Add);

        ns.Exec("ip", "link", "add", "uns0", "type", "veth", "peer", "name", "uns1");
        Next(leaving, LinkEventKind.Added);
        Next(staying, LinkEventKind.Added);

        subscription.Dispose();
        subscription.Dispose(); // idempotent
        Assert.Equal(1, watcher.Subscribers);
        while (leaving.TryTake(out _)) { } // what arrived before the end of the subscription
        ns.Exec("ip", "link", "set", "uns0", "mtu", "1280");
        Assert.Equal(1280, Next(staying, LinkEventKind.Changed).Link.Mtu);
        Assert.Empty(leaving);
    }

    [PrivilegedFact]
    public void Dispose_joins_the_thread_that_delivered_the_events()
    {
        using var ns = new NetNamespace("join");
        var threads = new BlockingCollection<Thread>();
        var watcher = new LinkWatcher(netns: ns.Name);
        try
        {
            using (watcher.Subscribe(_ => threads.Add(Thread.CurrentThread)))
            {
                ns.Exec("ip", "link", "add", "join0", "type", "veth", "peer", "name", "join1");
                Assert.True(threads.TryTake(out var thread, Patience), "an event should arrive");
                Assert.Equal($"link watcher {ns.Name}", thread.Name);
                Assert.True(thread.IsAlive);
                watcher.Dispose();
                Assert.False(thread.IsAlive, "Dispose returns after the watcher thread ended");
            }
        }
        finally
        {
            watcher.Dispose(); // also when an assertion failed: its socket would keep the namespace alive
        }
        Assert.Throws<ObjectDisposedException>(() => watcher.Subscribe(_ => { }));
    }

    /// <summary>The next event of <paramref name="kind"/>, skipping others (the kernel sends extra updates).</summary>
    private static LinkEvent Next(BlockingCollection<LinkEvent> events, LinkEventKind kind)
    {
        var deadline = DateTime.UtcNow + Patience;
        var seen = new List<LinkEvent>();
        while (DateTime.UtcNow < deadline)
        {
            if (!events.TryTake(out var e, TimeSpan.FromMilliseconds(200))) continue;
            if (e.Kind == kind) return e;
            seen.Add(e);
        }
        throw new Xunit.Sdk.XunitException($"no {kind} event within {Patience}; saw: {string.Join(", ", seen.Select(s => $"{s.Kind} {s.Link.Name}"))}");
    }
}
