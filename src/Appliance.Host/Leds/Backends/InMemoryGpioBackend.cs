using Appliance.Host.Time;
namespace Appliance.Host.Leds.Backends;

/// <summary>GPIO without hardware (a developer's PC, CI): declared chips with a number of lines, and a log
/// of every level change with its time on an injected clock, so tests assert LED behaviour exactly.
/// Writes of the level a line already has are not transitions and are not recorded. Missing chips,
/// out-of-range and already-requested lines fail like the real backend does.</summary>
public sealed class InMemoryGpioBackend(ITimeSource clock) : IGpioBackend
{
    private readonly Dictionary<string, int> _chips = [];
    private readonly Dictionary<(string, int), bool> _levels = [];
    private readonly HashSet<(string, int)> _requested = [];
    private readonly List<GpioTransition> _transitions = [];
    private readonly object _gate = new();
    private int? _anyChipLines;

    public string Name => "in-memory GPIO";

    /// <summary>Declares a chip with <paramref name="lines"/> lines under <paramref name="label"/>.</summary>
    public InMemoryGpioBackend WithChip(string label, int lines)
    {
        lock (_gate) _chips[label] = lines;
        return this;
    }

    /// <summary>Any chip label asked for exists with <paramref name="lines"/> lines (`run --leds memory`, where the
    /// config names the chips).</summary>
    public InMemoryGpioBackend WithAnyChip(int lines = 64)
    {
        lock (_gate) _anyChipLines = lines;
        return this;
    }

    /// <summary>Every transition so far, in order.</summary>
    public IReadOnlyList<GpioTransition> Transitions
    {
        get { lock (_gate) return [.. _transitions]; }
    }

    /// <summary>The transitions of one line, in order.</summary>
    public IReadOnlyList<GpioTransition> TransitionsOf(string chip, int offset)
    {
        lock (_gate) return [.. _transitions.Where(t => t.Chip == chip && t.Offset == offset)];
    }

    /// <summary>The line's current physical level, or null when it was never requested.</summary>
    public bool? Level(string chip, int offset)
    {
        lock (_gate) return _levels.TryGetValue((chip, offset), out var high) ? high : null;
    }

    public IGpioOutput OpenOutput(GpioLineAddress address, bool initialHigh)
    {
        lock (_gate)
        {
            if (_anyChipLines is int any && !_chips.ContainsKey(address.ChipLabel)) _chips[address.ChipLabel] = any;
            if (!_chips.TryGetValue(address.ChipLabel, out var lines))
                throw new LedHardwareException($"LED GPIO chip not found: no chip is labelled '{address.ChipLabel}'; chips: {string.Join(", ", _chips.Keys)}.");
            if (address.Offset < 0 || address.Offset >= lines)
                throw new LedHardwareException($"LED line {address}: chip [{address.ChipLabel}] has lines 0..{lines - 1}, there is no line {address.Offset}.");
            var key = (address.ChipLabel, address.Offset);
            if (!_requested.Add(key))
                throw new LedHardwareException($"LED line {address}: the line is already requested (busy).");
            Record(key, initialHigh, force: true);
            return new Output(this, key);
        }
    }

    private readonly Dictionary<string, (System.Device.Gpio.GpioController Controller, InMemoryGpioDriver Driver)> _inputs = [];

    public System.Device.Gpio.GpioController Controller(string chipLabel) => InputChip(chipLabel).Controller;

    /// <summary>Sets an input line's level (a test pressing or releasing the failsafe button).</summary>
    public void SetInput(string chipLabel, int offset, bool high) => InputChip(chipLabel).Driver.SetInput(offset, high);

    private (System.Device.Gpio.GpioController Controller, InMemoryGpioDriver Driver) InputChip(string chipLabel)
    {
        lock (_gate)
        {
            if (_inputs.TryGetValue(chipLabel, out var chip)) return chip;
            if (_anyChipLines is int any && !_chips.ContainsKey(chipLabel)) _chips[chipLabel] = any;
            if (!_chips.TryGetValue(chipLabel, out var lines))
                throw new LedHardwareException($"GPIO chip not found: no chip is labelled '{chipLabel}'; chips: {string.Join(", ", _chips.Keys)}.");
            var driver = new InMemoryGpioDriver(lines);
            return _inputs[chipLabel] = (new System.Device.Gpio.GpioController(driver), driver);
        }
    }

    private void Record((string Chip, int Offset) key, bool high, bool force = false)
    {
        if (!force && _levels.TryGetValue(key, out var old) && old == high) return;
        _levels[key] = high;
        _transitions.Add(new GpioTransition(key.Chip, key.Offset, high, clock.Now));
    }

    public void Dispose() { }

    private sealed class Output(InMemoryGpioBackend owner, (string Chip, int Offset) key) : IGpioOutput
    {
        private bool _closed;

        public void Write(bool high)
        {
            lock (owner._gate)
            {
                if (_closed) throw new InvalidOperationException($"gpio {key.Chip}:{key.Offset} was released");
                owner.Record(key, high);
            }
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                if (_closed) return;
                _closed = true;
                owner._requested.Remove(key);
            }
        }
    }
}
