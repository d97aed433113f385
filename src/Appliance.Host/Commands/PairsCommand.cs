namespace Appliance.Host.Commands;

/// <summary>`meta-appliance pairs [attach|replace|detach ...] [--socket PATH]`: the pairs' chains, or a bpf_mprog-style chain change (see ChainEditor.Usage).</summary>
public static class PairsCommand
{
    public static int Run(string[] args) => ControlVerb.Run("pairs", args, jsonAllowed: false);
}
