using Appliance.Datapath.Engine;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>One line saying how a frame was decided, the same for a live capture's packet comments and for replay:
/// <c>verdict=pass side=tenant-a/peer program=allow-web target=eth0</c>,
/// <c>verdict=drop side=tenant-a/primary program=acl reason=verdict</c>,
/// <c>verdict=redirect side=tenant-a/peer program=redir redirect=7 target=tenant-b</c> (<c>helper=redirect_neigh</c> or
/// <c>helper=redirect_peer</c> after the ifindex when one of those chose it),
/// <c>verdict=drop reason=unclaimed</c>. <c>policy=pass|drop</c> replaces <c>program=</c> when no program decided;
/// <c>from=PAIR/SIDE</c> names the side the frame entered first when a redirect took it into another pair.
/// Runs off the datapath (capture reader thread, replay).</summary>
public static class DecisionText
{
    public static string Describe(RuntimeTopology topology, FrameVerdict verdict, in FrameDecision d)
    {
        var sb = new System.Text.StringBuilder(96);
        sb.Append("verdict=").Append(Verdict(verdict, d));
        if (d.EntryPair is not null)
        {
            sb.Append(" side=").Append(SideName(d.Pair!, d.Side));
            if (!ReferenceEquals(d.EntryPair, d.Pair) || d.EntrySide != d.Side) sb.Append(" from=").Append(SideName(d.EntryPair, d.EntrySide));
            if (d.Program is not null) sb.Append(" program=").Append(d.Program.Name);
            else if (!(d.Dropped && d.DropReason == PairDropReason.Carrier))
                sb.Append(" policy=").Append(d.Verdict == NetkitVerdict.Pass ? "pass" : "drop");
            if (d.RedirectIfindex != 0)
            {
                sb.Append(" redirect=").Append(d.RedirectIfindex);
                if (d.RedirectHelper != RedirectHelper.Redirect)
                    sb.Append(" helper=").Append(d.RedirectHelper == RedirectHelper.Neigh ? "redirect_neigh" : "redirect_peer");
            }
        }
        if (Reason(verdict, d) is { } reason) sb.Append(" reason=").Append(reason);
        if (Target(topology, verdict, d) is { } target) sb.Append(" target=").Append(target);
        return sb.ToString();
    }

    /// <summary>pass, redirect, drop, or kernel (unclaimed, left to the board's stack).</summary>
    public static string Verdict(FrameVerdict verdict, in FrameDecision d) => verdict.Kind switch
    {
        VerdictKind.Kernel => "kernel",
        VerdictKind.Drop => "drop",
        _ => d.RedirectIfindex != 0 ? "redirect" : "pass",
    };

    /// <summary>Why the frame was dropped or not forwarded (null when forwarded): the pair side's reason, else the engine's.</summary>
    public static string? Reason(FrameVerdict verdict, in FrameDecision d)
    {
        if (verdict.Kind == VerdictKind.Forward) return null;
        if (d.Dropped) return Camel(d.DropReason.ToString());
        if (d.EntryPair is null && verdict.Kind == VerdictKind.Kernel || verdict.Reason == DropReason.Policy && d.EntryPair is null) return "unclaimed";
        return Camel(verdict.Reason.ToString());
    }

    /// <summary>Where a forwarded frame goes: a port's name, or a pair's name (into its tenant); null otherwise.</summary>
    public static string? Target(RuntimeTopology topology, FrameVerdict verdict, in FrameDecision d) =>
        verdict.Kind == VerdictKind.Forward ? EnginePortName(topology, verdict.TargetPort) : null;

    public static string SideName(PairRuntime pair, PairSideKind side) =>
        pair.Name + (side == PairSideKind.Primary ? "/primary" : "/peer");

    /// <summary>A board port's name, or the pair's name for its primary end (= into that tenant).</summary>
    public static string EnginePortName(RuntimeTopology topology, int enginePort)
    {
        if ((uint)enginePort < (uint)topology.Ports.Length) return topology.Ports[enginePort].Name;
        return (uint)enginePort < (uint)topology.EnginePortCount && topology.PairByEnginePort[enginePort] is { } p ? p.Name : $"#{enginePort}";
    }

    /// <summary>An enum value as the JSON, comments and metric labels spell it: lower camel case.</summary>
    public static string Camel(string s) => char.ToLowerInvariant(s[0]) + s[1..];
}
