namespace Appliance.Datapath.Runtime;

/// <summary>A pair or port of the running config that is not running: a reload failed and undoing it failed too (the
/// pair could not be made again, say, because its name was taken meanwhile, or a pair or port whose change could not be
/// undone was taken out rather than run as neither config says, a port with the pairs whose uplink it is). `status` and the failed reload's answer
/// name it; the next reload makes it again (its config then, when it still has it) and drops it when it does not.</summary>
/// <param name="Target">"pair tenant-b" or "port eth1", as plan steps name them.</param>
/// <param name="Why">The error of the undo that left it out, or of the reload that could not make it again since.</param>
public sealed record NotRunningPart(string Target, string Why)
{
    /// <summary>"pair" or "port".</summary>
    public string Kind => KindOf(Target);
    /// <summary>The pair's or port's name.</summary>
    public string Name => NameOf(Target);

    /// <summary>"pair" or "port" of a plan step's target "pair X" or "port X".</summary>
    public static string KindOf(string target) => target[..target.IndexOf(' ')];
    /// <summary>The name in a plan step's target "pair X" or "port X".</summary>
    public static string NameOf(string target) => target[(target.IndexOf(' ') + 1)..];

    public override string ToString() => $"{Target} (a failed reload's undo left it out: {Why}); a reload makes it again";
}
