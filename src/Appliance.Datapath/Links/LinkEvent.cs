namespace Appliance.Datapath.Links;

/// <summary>One change seen by <see cref="LinkWatcher"/>: what happened and the interface's state right after.</summary>
/// <param name="Kind">What changed.</param>
/// <param name="Link">The interface as the kernel reported it with this change.</param>
/// <param name="Namespace">The watched namespace (null: the appliance's own).</param>
/// <param name="PreviousName">For <see cref="LinkEventKind.Renamed"/>, the old name.</param>
public sealed record LinkEvent(LinkEventKind Kind, LinkInfo Link, string? Namespace, string? PreviousName = null);
