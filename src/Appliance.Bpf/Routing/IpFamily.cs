namespace Appliance.Bpf.Routing;

/// <summary>The Linux address families the routing helpers know (AF_INET, AF_INET6; the values of the kernel's
/// struct bpf_fib_lookup.family and struct bpf_redir_neigh.nh_family).</summary>
public enum IpFamily : byte
{
    Unspec = 0,
    Inet = 2,
    Inet6 = 10,
}

public static class IpFamilies
{
    /// <summary>Bytes of an address of <paramref name="family"/>: 4, 16, or 0 for any other family.</summary>
    public static int AddressLength(IpFamily family) => family switch
    {
        IpFamily.Inet => 4,
        IpFamily.Inet6 => 16,
        _ => 0,
    };
}
