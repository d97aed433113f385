namespace Appliance.Datapath.Pairs;

/// <summary>A refused chain change, with the errno bpf_mprog gives for the same case.</summary>
public sealed class ChainException(ChainError error, string message) : Exception(message)
{
    public ChainError Error { get; } = error;
}

public enum ChainError
{
    /// <summary>-ERANGE: the chain is full (63 programs).</summary>
    Full,
    /// <summary>-ENOENT: the anchor or the program to replace/detach is not in the chain.</summary>
    NotFound,
    /// <summary>-EEXIST: the same program is attached already.</summary>
    AlreadyAttached,
    /// <summary>-ESTALE: the expected revision no longer matches.</summary>
    StaleRevision,
}
