namespace Appliance.Config;

/// <summary>What differs between a running config and a new one, for live reload.</summary>
public sealed record ConfigChanges
{
    public bool BoardChanged { get; init; }

    /// <summary>The control socket's path or group changed (the socket is made once, at start).</summary>
    public bool ControlSocketChanged { get; init; }

    /// <summary>The metrics endpoint changed (it moves at the next start).</summary>
    public bool MetricsChanged { get; init; }

    /// <summary>The `memory` section changed (applies at the next start).</summary>
    public bool MemoryChanged { get; init; }

    /// <summary>The `workers` count changed (applies at the next start).</summary>
    public bool WorkersChanged { get; init; }

    /// <summary>`jit` changed (the programs keep their engine until the next start).</summary>
    public bool JitChanged { get; init; }

    /// <summary>The failsafe `button` changed (it is watched as the appliance started it until the next start).</summary>
    public bool ButtonChanged { get; init; }

    public required NamedChanges Ports { get; init; }

    public required IReadOnlyList<string> PairsAdded { get; init; }

    public required IReadOnlyList<string> PairsRemoved { get; init; }

    public required IReadOnlyList<PairChange> PairsChanged { get; init; }

    public required NamedChanges Programs { get; init; }

    /// <summary>The global LED switch (night mode) changed.</summary>
    public bool LedStateChanged { get; init; }

    public required NamedChanges Leds { get; init; }

    public bool IsEmpty =>
        !BoardChanged && !ControlSocketChanged && !MetricsChanged && !MemoryChanged && !WorkersChanged && !JitChanged && !ButtonChanged && Ports.IsEmpty && PairsAdded.Count == 0 && PairsRemoved.Count == 0
        && PairsChanged.Count == 0 && Programs.IsEmpty && !LedStateChanged && Leds.IsEmpty;
}
