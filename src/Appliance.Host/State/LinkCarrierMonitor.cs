using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;

namespace Appliance.Host.State;

/// <summary>Keeps <see cref="InterfaceState.Carrier"/> of the running config's ports in step with the kernel: an
/// initial read, then rtnetlink link events (a subscription to the appliance's one <see cref="LinkWatcher"/> of its own
/// namespace, the one the runtime shares); <see cref="Follow"/> after a reload or a rollback changes the ports. Carrier
/// counts only while the link is also administratively up; a deleted link has none.</summary>
public sealed class LinkCarrierMonitor : IDisposable
{
    private readonly IDisposable _subscription;
    private readonly ApplianceState _state;
    private volatile HashSet<string> _ports = new(StringComparer.Ordinal);

    /// <summary>Subscribes to <paramref name="links"/> (a watcher of the appliance's own namespace, which the caller
    /// disposes after this), then reads the carrier of <paramref name="ports"/>.</summary>
    public LinkCarrierMonitor(ApplianceState state, IReadOnlyCollection<string> ports, LinkWatcher links)
    {
        _state = state;
        _subscription = links.Subscribe(e =>
            {
                if (!_ports.Contains(e.Link.Name)) return;
                state.Interface(e.Link.Name).Carrier = e.Kind != LinkEventKind.Deleted && e.Link.IsUp && e.Link.Carrier;
            });
        Follow(ports);
    }

    /// <summary>Follows exactly these ports from now on (a port no longer followed keeps its last carrier).</summary>
    public void Follow(IEnumerable<string> ports)
    {
        var wanted = new HashSet<string>(ports, StringComparer.Ordinal);
        if (wanted.SetEquals(_ports)) return;
        _ports = wanted;
        using var links = new LinkManager();
        foreach (var link in links.List())
            if (wanted.Contains(link.Name)) _state.Interface(link.Name).Carrier = link.IsUp && link.Carrier;
    }

    public void Dispose() => _subscription.Dispose();
}
