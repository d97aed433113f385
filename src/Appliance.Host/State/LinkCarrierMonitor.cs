using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;

namespace Appliance.Host.State;

/// <summary>Keeps <see cref="InterfaceState.Carrier"/> of the named ports in step with the kernel: an initial
/// read, then rtnetlink link events (Datapath's <see cref="LinkWatcher"/>, its own thread). Carrier counts
/// only while the link is also administratively up; a deleted link has none.</summary>
public sealed class LinkCarrierMonitor : IDisposable
{
    private readonly LinkWatcher _watcher;

    public LinkCarrierMonitor(ApplianceState state, IReadOnlyCollection<string> ports, Logger log)
    {
        _watcher = new LinkWatcher(e =>
            {
                if (!ports.Contains(e.Link.Name)) return;
                state.Interface(e.Link.Name).Carrier = e.Kind != LinkEventKind.Deleted && e.Link.IsUp && e.Link.Carrier;
            },
            names: ports,
            onError: e => log.Warn("leds", $"link watcher: {e.Message}"));
        using var links = new LinkManager();
        foreach (var link in links.List())
            if (ports.Contains(link.Name)) state.Interface(link.Name).Carrier = link.IsUp && link.Carrier;
    }

    public void Dispose() => _watcher.Dispose();
}
