using Xunit;

namespace Appliance.TestSupport;

/// <summary>A test that needs root (network namespaces, veth, bpf(), AF_XDP). It is skipped, with the
/// reason, only where it cannot run: not root and not in CI. Under CI=true it always runs, so a missing
/// capability there is a failure, never a silent skip.</summary>
public sealed class PrivilegedFactAttribute : FactAttribute
{
    public PrivilegedFactAttribute()
    {
        if (Privilege.SkipReason is { } why) Skip = why;
    }
}

/// <summary>The theory form of <see cref="PrivilegedFactAttribute"/>.</summary>
public sealed class PrivilegedTheoryAttribute : TheoryAttribute
{
    public PrivilegedTheoryAttribute()
    {
        if (Privilege.SkipReason is { } why) Skip = why;
    }
}

public static class Privilege
{
    public static bool IsRoot => Environment.IsPrivilegedProcess; // effective uid 0
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why a privileged test cannot run here, or null when it must run.</summary>
    public static string? SkipReason =>
        IsRoot || InCi ? null : "needs root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW); run as root or in CI";
}

/// <summary>Tests that create namespaces, interfaces or kernel objects join this collection and run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelCollection
{
    public const string Name = "kernel (serial)";
}
