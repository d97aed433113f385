using System.Collections.Concurrent;

namespace Appliance.Host.State;

/// <summary>The appliance's visible state, written by the rest of the host (init, config loader, link
/// monitor, datapath, supervisor) and read by the LED thread: boot stage, config health, active faults
/// (by source, so one component clearing its fault does not hide another's), and per-interface carrier
/// and packet counters. Every member is safe to use from any thread.</summary>
public sealed class ApplianceState
{
    private volatile BootStage _stage = BootStage.Init;
    private volatile ConfigHealth _config = ConfigHealth.Ok;
    private readonly Dictionary<string, string> _faults = [];
    private volatile bool _hasFault;
    private readonly ConcurrentDictionary<string, InterfaceState> _interfaces = new(StringComparer.Ordinal);

    public BootStage Stage
    {
        get => _stage;
        set => _stage = value;
    }

    public ConfigHealth ConfigHealth
    {
        get => _config;
        set => _config = value;
    }

    public bool HasFault => _hasFault;

    /// <summary>When a change applied with `reload --confirm` is rolled back unless confirmed (UTC); null when none waits.</summary>
    public DateTime? ConfirmDeadline
    {
        get { lock (_faults) return _confirmDeadline; }
        set { lock (_faults) _confirmDeadline = value; }
    }
    private DateTime? _confirmDeadline;

    /// <summary>Marks a fault from <paramref name="source"/> ("datapath", "config") with a message for the
    /// log and the status listing. Raising again from the same source replaces the message.</summary>
    public void RaiseFault(string source, string message)
    {
        lock (_faults)
        {
            _faults[source] = message;
            _hasFault = true;
        }
    }

    public void ClearFault(string source)
    {
        lock (_faults)
        {
            _faults.Remove(source);
            _hasFault = _faults.Count > 0;
        }
    }

    /// <summary>The active faults, source → message.</summary>
    public IReadOnlyDictionary<string, string> Faults
    {
        get { lock (_faults) return new Dictionary<string, string>(_faults); }
    }

    /// <summary>The state of a port or pair by name, created on first use (LEDs may be configured before
    /// the datapath knows the interface).</summary>
    public InterfaceState Interface(string name) => _interfaces.GetOrAdd(name, static n => new InterfaceState(n));
}
