namespace Appliance.Datapath.Pairs;

/// <summary>Where an attach puts a program, as bpf_mprog's flags do: no flag appends, <c>BPF_F_BEFORE</c>
/// without an anchor prepends, <c>BPF_F_AFTER</c> without one appends, with an anchor it goes next to it.</summary>
public readonly record struct ChainPosition(ChainPlacement Placement, string? Anchor = null)
{
    public static ChainPosition Append => new(ChainPlacement.After);
    public static ChainPosition Prepend => new(ChainPlacement.Before);
    public static ChainPosition Before(string anchor) => new(ChainPlacement.Before, anchor);
    public static ChainPosition After(string anchor) => new(ChainPlacement.After, anchor);
}

public enum ChainPlacement
{
    Before,
    After,
}
