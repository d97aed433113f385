using System.Collections.Concurrent;

namespace Appliance.Host.State;

/// <summary>The appliance's visible state, written by the rest of the host (init, config loader, link
/// monitor, datapath, supervisor) and read by the LED thread: boot stage, config health, active faults
/// (by source, so one component clearing its fault does not hide another's), and per-interface carrier
/// and packet counters. Every member is safe to use from any thread. A change of any of them (not of the packet
/// counters, which only their readers sample) raises <see cref="Changed"/>.</summary>
public sealed class ApplianceState
{
    private volatile BootStage _stage = BootStage.Init;
    private volatile ConfigHealth _config = ConfigHealth.Ok;
    private readonly Dictionary<string, string> _faults = [];
    private volatile bool _hasFault;
    private readonly ConcurrentDictionary<string, InterfaceState> _interfaces = new(StringComparer.Ordinal);

    /// <summary>Raised on the changing thread, outside any lock, after the stage, the config health, the faults, the
    /// confirm deadline or an interface's carrier changed: the LED thread sleeps until then instead of polling.</summary>
    public event Action? Changed;

    private void OnChanged() => Changed?.Invoke();

    public BootStage Stage
    {
        get => _stage;
        set
        {
            if (_stage == value) return;
            _stage = value;
            OnChanged();
        }
    }

    public ConfigHealth ConfigHealth
    {
        get => _config;
        set
        {
            if (_config == value) return;
            _config = value;
            OnChanged();
        }
    }

    public bool HasFault => _hasFault;

    /// <summary>When a change applied with `reload --confirm` is rolled back unless confirmed (UTC); null when none waits.</summary>
    public DateTime? ConfirmDeadline
    {
        get { lock (_faults) return _confirmDeadline; }
        set
        {
            lock (_faults)
            {
                if (_confirmDeadline == value) return;
                _confirmDeadline = value;
            }
            OnChanged();
        }
    }
    private DateTime? _confirmDeadline;

    /// <summary>Marks a fault from <paramref name="source"/> ("datapath", "config") with a message for the
    /// log and the status listing. Raising again from the same source replaces the message.</summary>
    public void RaiseFault(string source, string message)
    {
        lock (_faults)
        {
            if (_faults.TryGetValue(source, out var current) && current == message) return;
            _faults[source] = message;
            _hasFault = true;
        }
        OnChanged();
    }

    public void ClearFault(string source)
    {
        lock (_faults)
        {
            if (!_faults.Remove(source)) return;
            _hasFault = _faults.Count > 0;
        }
        OnChanged();
    }

    /// <summary>The active faults, source → message.</summary>
    public IReadOnlyDictionary<string, string> Faults
    {
        get { lock (_faults) return new Dictionary<string, string>(_faults); }
    }

    /// <summary>The state of a port or pair by name, created on first use (LEDs may be configured before
    /// the datapath knows the interface).</summary>
    public InterfaceState Interface(string name) => _interfaces.GetOrAdd(name, static (n, s) => new InterfaceState(n, s.OnChanged), this);
}
