namespace Appliance.Config;

/// <summary>One side of a pair: default policy, scrub and the ordered program chain.</summary>
public sealed record PairSideConfig
{
    public SidePolicy Policy { get; set; } = SidePolicy.Pass;

    public ScrubMode Scrub { get; set; } = ScrubMode.Default;

    /// <summary>Programs in run order (first runs first), at most <see cref="MaxChainLength"/>.</summary>
    public IReadOnlyList<ChainEntry> Chain { get; set; } = [];

    /// <summary>bpf_mprog's limit per attach point.</summary>
    public const int MaxChainLength = 63;
}
