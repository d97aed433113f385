namespace Appliance.Host.Control;

/// <summary>What reloads did, for `/metrics`: the config generation (1 at start, one more per successful reload),
/// and the last reload's result and time. Thread-safe.</summary>
public sealed class ReloadHistory
{
    private readonly object _gate = new();
    private long _generation = 1;
    private bool? _lastOk;
    private DateTime _lastUtc;

    public void Record(bool ok, DateTime utc)
    {
        lock (_gate)
        {
            if (ok) _generation++;
            _lastOk = ok;
            _lastUtc = utc;
        }
    }

    /// <summary>The generation, whether the last reload succeeded (null: none yet) and when it ran.</summary>
    public (long Generation, bool? LastOk, DateTime LastUtc) Read()
    {
        lock (_gate) return (_generation, _lastOk, _lastUtc);
    }
}
