using Appliance.Interop;

namespace Appliance.Datapath.Links;

/// <summary>The registry of what this appliance run created: interfaces (tagged with <see cref="Tag"/> in
/// their alias, so renames do not lose them) and namespaces (tagged on their loopback's alias).
/// <see cref="Dispose"/> deletes all of it, so a clean shutdown leaves nothing behind; a run killed before
/// that is cleaned up at the next start by <see cref="StaleLinkSweeper"/>, which recognises the tag.</summary>
public sealed class OwnedLinks : IDisposable
{
    private readonly LinkManager _links;
    private readonly List<string> _createdNamespaces = [];
    private readonly List<string> _adoptedNamespaces = [];
    private readonly object _gate = new();
    private bool _disposed;

    /// <summary>A registry for interfaces of the namespace of <paramref name="links"/> (not disposed here).</summary>
    public OwnedLinks(LinkManager links, OwnerTag? tag = null)
    {
        _links = links;
        Tag = tag ?? OwnerTag.ForThisProcess();
    }

    /// <summary>The manager of the namespace whose interfaces this registry owns.</summary>
    public LinkManager Links => _links;

    /// <summary>The alias written on everything this registry owns.</summary>
    public OwnerTag Tag { get; }

    /// <summary>Namespaces this registry created, in creation order.</summary>
    public IReadOnlyList<string> CreatedNamespaces { get { lock (_gate) return _createdNamespaces.ToArray(); } }

    /// <summary>Creates a veth pair through <see cref="LinkManager.CreateVethPair"/> and owns it (the local end
    /// carries the tag; deleting it removes both ends).</summary>
    public void CreateVethPair(string name, string peerName, string? peerNamespace = null, int? mtu = null, int? queues = null)
    {
        ThrowIfDisposed();
        _links.CreateVethPair(name, peerName, peerNamespace, mtu, queues);
        try
        {
            AdoptLink(name);
        }
        catch
        {
            _links.Delete(name);
            throw;
        }
    }

    /// <summary>Owns an existing interface of this namespace: tags it so <see cref="Dispose"/> deletes it.</summary>
    public void AdoptLink(string name)
    {
        ThrowIfDisposed();
        _links.SetAlias(name, Tag.ToString());
    }

    /// <summary>Creates a named namespace (<see cref="NetworkNamespace.Create"/>) and owns it.</summary>
    public void CreateNamespace(string name)
    {
        ThrowIfDisposed();
        NetworkNamespace.Create(name);
        try
        {
            using var inside = new LinkManager(name);
            inside.SetAlias("lo", Tag.ToString());
        }
        catch
        {
            NetworkNamespace.Delete(name);
            throw;
        }
        lock (_gate) _createdNamespaces.Add(name);
    }

    /// <summary>Makes sure namespace <paramref name="name"/> exists: creates and owns it when missing (true), or
    /// leaves an existing one to its owner and only watches it for our tagged interfaces (false).</summary>
    public bool EnsureNamespace(string name)
    {
        if (NetworkNamespace.Exists(name))
        {
            WatchNamespace(name);
            return false;
        }
        CreateNamespace(name);
        return true;
    }

    /// <summary>Remembers a namespace that holds interfaces we tagged there (a tenant namespace we did not
    /// create), so <see cref="Dispose"/> looks for them there too.</summary>
    public void WatchNamespace(string name)
    {
        ThrowIfDisposed();
        lock (_gate) if (!_adoptedNamespaces.Contains(name)) _adoptedNamespaces.Add(name);
    }

    /// <summary>Deletes one interface we own (a pair removed while running; its veth peer goes with it). Already
    /// gone is fine.</summary>
    public void DeleteLink(string name)
    {
        ThrowIfDisposed();
        try { _links.Delete(name); }
        catch (PlatformException e) when (e.Errno == Errno.ENODEV) { }
    }

    /// <summary>Deletes a namespace this registry created and forgets it (true); a namespace it did not create is
    /// left to its owner (false).</summary>
    public bool DeleteNamespace(string name)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_createdNamespaces.Remove(name)) return false;
        }
        try { NetworkNamespace.Delete(name); }
        catch (PlatformException e) when (e.Errno == Errno.ENOENT) { }
        return true;
    }

    /// <summary>Deletes every tagged interface (here and in watched namespaces), then the created namespaces
    /// (newest first). Everything is attempted; interfaces already gone are fine. Failures are thrown together
    /// as one <see cref="AggregateException"/> afterwards.</summary>
    public void Dispose()
    {
        string[] created, adopted;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            created = _createdNamespaces.AsEnumerable().Reverse().ToArray();
            adopted = _adoptedNamespaces.ToArray();
        }
        var failures = new List<Exception>();
        DeleteTagged(_links, failures);
        foreach (var ns in adopted)
        {
            try
            {
                using var inside = new LinkManager(ns);
                DeleteTagged(inside, failures);
            }
            catch (PlatformException e) when (e.Errno == Errno.ENOENT) { } // the tenant removed its namespace
            catch (Exception e) { failures.Add(e); }
        }
        foreach (var ns in created)
        {
            try { NetworkNamespace.Delete(ns); }
            catch (PlatformException e) when (e.Errno == Errno.ENOENT) { }
            catch (Exception e) { failures.Add(e); }
        }
        if (failures.Count > 0)
            throw new AggregateException($"cleanup of owned links/namespaces ({Tag}) left {failures.Count} failure(s)", failures);
    }

    private void DeleteTagged(LinkManager links, List<Exception> failures)
    {
        string tag = Tag.ToString();
        IReadOnlyList<LinkInfo> all;
        try { all = links.List(); }
        catch (Exception e)
        {
            failures.Add(e);
            return;
        }
        foreach (var link in all.Where(l => l.Alias == tag))
        {
            try { links.Delete(link.Name); }
            catch (PlatformException e) when (e.Errno == Errno.ENODEV) { } // went with its veth peer
            catch (Exception e) { failures.Add(e); }
        }
    }

    private void ThrowIfDisposed()
    {
        lock (_gate) ObjectDisposedException.ThrowIf(_disposed, this);
    }
}
