namespace Appliance.Bpf.Maps;

/// <summary>A thread that holds programs or maps it read from the running set outside a program run (the group-frame
/// flooder between reading a pair's chain and running it; the control socket's map editor): between
/// <see cref="Enter"/> and <see cref="Exit"/> it counts as a run for the grace periods of <see cref="RunEpochs"/>, so
/// <see cref="RetiredMemory"/> frees nothing it may still reach. Read the running set after <see cref="Enter"/>. Its
/// cell is separate from any VM's (a VM's runs inside the section enter and exit their own). One thread at a time.</summary>
public sealed unsafe class RunSection : IDisposable
{
    private long* _cell = RunEpochs.Register();

    public void Enter() => RunEpochs.Enter(_cell, RunEpochs.Epoch);

    public void Exit() => RunEpochs.Exit(_cell);

    /// <summary>Exits (if inside) and gives the cell back.</summary>
    public void Dispose()
    {
        if (_cell is null) return;
        RunEpochs.Release(_cell);
        _cell = null;
    }
}
