namespace Appliance.Datapath.Xsk;

/// <summary>How a port binds its AF_XDP socket.</summary>
public enum ZeroCopyMode
{
    /// <summary>Try zero-copy on a UMEM of its own; when the driver has none (EOPNOTSUPP), join the shared copy-mode UMEM.</summary>
    Auto,
    /// <summary>Zero-copy or fail.</summary>
    On,
    /// <summary>Copy mode on the shared copy-mode UMEM.</summary>
    Off,
}
