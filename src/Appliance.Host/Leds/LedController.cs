using Appliance.Datapath.Diagnostics;
using Appliance.Host.Leds.Triggers;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Leds;

/// <summary>Owns the LED thread: one scheduler, independent of the datapath, that evaluates every LED's
/// trigger at the trigger's own deadlines (blink edges, activity samples) and at least every
/// <see cref="StatePollInterval"/> (on a fixed grid from <see cref="Start"/>) to pick up state changes, and
/// writes a line only when its value changes. Night mode (<see cref="AllOff"/>) holds every LED off while
/// the triggers keep running; turning it back on restores what the triggers show at that moment.
/// A failing LED line is logged once and skipped; it never stops the thread or the other LEDs.</summary>
public sealed class LedController : IDisposable
{
    /// <summary>How often state-driven triggers (status, link, fault) are re-read: a change shows within a quarter
    /// second, and an idle board wakes the LED thread only 4 times a second for it (each wake-up costs ~1 ms of a
    /// core on the emulated board; blink edges and busy activity sampling add their own wake-ups).</summary>
    public static readonly TimeSpan StatePollInterval = TimeSpan.FromMilliseconds(250);

    private readonly LedLineFactory _lines;
    private readonly ApplianceState _state;
    private readonly ITimeSource _time;
    private readonly Logger _log;
    private readonly object _gate = new();
    private List<Led> _leds = [];
    private bool _allOff;
    private TimeSpan? _nextPoll;
    private Thread? _thread;
    private CancellationTokenSource? _stop;

    /// <summary>Where the LED lines come from (and the failsafe button's GPIO controller).</summary>
    public LedLineFactory Lines => _lines;

    public LedController(LedLineFactory lines, ApplianceState state, ITimeSource time, Logger log)
    {
        _lines = lines;
        _state = state;
        _time = time;
        _log = log;
    }

    public ApplianceState State => _state;

    /// <summary>Replaces the LED set: opens the new lines (an LED whose line cannot be opened is logged and
    /// listed with its error), turns off and releases the old ones. Returns the errors, empty when all opened.</summary>
    public IReadOnlyList<string> Configure(LedSetup config)
    {
        var opened = new List<Led>();
        var errors = new List<string>();
        lock (_gate)
        {
            CloseAll();
            foreach (var spec in config.Leds)
            {
                var trigger = LedTriggerParser.Parse(spec.Trigger, _state);
                ILedLine? line = null;
                string? error = null;
                try
                {
                    line = _lines.Open(spec.Address);
                }
                catch (LedHardwareException e)
                {
                    error = e.Message;
                    errors.Add($"LED '{spec.Name}': {e.Message}");
                    _log.Error("leds", e.Message, ("led", spec.Name));
                }
                opened.Add(new Led(spec, trigger, line, error));
            }
            _leds = opened;
            _allOff = config.AllOff;
        }
        return errors;
    }

    /// <summary>Night mode: true turns every LED off; false shows the triggers again.</summary>
    public bool AllOff
    {
        get { lock (_gate) return _allOff; }
        set { lock (_gate) _allOff = value; }
    }

    /// <summary>The LEDs as last evaluated.</summary>
    public IReadOnlyList<LedStatus> Leds
    {
        get
        {
            lock (_gate)
                return [.. _leds.Select(l => new LedStatus(l.Spec.Name, l.Line?.Description ?? l.Spec.Address.ToString(), l.Trigger.Name, l.TriggerOn, l.Lit, l.Error))];
        }
    }

    /// <summary>One scheduler pass at <paramref name="now"/>: evaluates every trigger, drives changed lines,
    /// and returns when the next pass is due.</summary>
    public TimeSpan Tick(TimeSpan now)
    {
        lock (_gate)
        {
            var poll = _nextPoll ?? now;
            while (poll <= now) poll += StatePollInterval;
            _nextPoll = poll;
            var next = poll;
            foreach (var led in _leds)
            {
                var decision = led.Trigger.Evaluate(now);
                led.TriggerOn = decision.On;
                Drive(led, decision.On && !_allOff);
                if (decision.NextChange < next) next = decision.NextChange;
            }
            return next;
        }
    }

    private void Drive(Led led, bool lit)
    {
        if (led.Line is null || (led.Written && led.Lit == lit)) return;
        try
        {
            led.Line.Set(lit);
            led.Lit = lit;
            led.Written = true;
            led.Error = null;
        }
        catch (Exception e)
        {
            if (led.Error is null) _log.Error("leds", $"setting the LED failed: {e.Message}", ("led", led.Spec.Name), ("line", led.Line.Description));
            led.Error = e.Message;
        }
    }

    /// <summary>Starts the LED thread (idempotent).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_thread is not null) return;
            _stop = new CancellationTokenSource();
            var token = _stop.Token;
            _thread = new Thread(() => Loop(token)) { IsBackground = true, Name = "leds" };
            _thread.Start();
        }
    }

    private void Loop(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TimeSpan next;
            try
            {
                next = Tick(_time.Now);
            }
            catch (Exception e)
            {
                // A trigger bug must not end the LED thread (and, as PID 1, must not end the process).
                _log.Error("leds", $"LED scheduler pass failed: {e.Message}");
                next = _time.Now + StatePollInterval;
            }
            _time.WaitUntil(next, stop);
        }
    }

    /// <summary>Stops the thread, turns every LED off and releases the lines.</summary>
    public void Stop()
    {
        Thread? thread;
        lock (_gate)
        {
            thread = _thread;
            _thread = null;
            _stop?.Cancel();
        }
        thread?.Join();
        lock (_gate)
        {
            CloseAll();
            _leds = [];
            _stop?.Dispose();
            _stop = null;
        }
    }

    private void CloseAll()
    {
        foreach (var led in _leds)
        {
            if (led.Line is null) continue;
            try
            {
                led.Line.Set(false);
                led.Line.Dispose();
            }
            catch (Exception e)
            {
                _log.Warn("leds", $"releasing the LED failed: {e.Message}", ("led", led.Spec.Name));
            }
        }
    }

    public void Dispose() => Stop();

    private sealed class Led(LedSpec spec, ILedTrigger trigger, ILedLine? line, string? error)
    {
        public LedSpec Spec { get; } = spec;
        public ILedTrigger Trigger { get; } = trigger;
        public ILedLine? Line { get; } = line;
        public string? Error { get; set; } = error;
        public bool TriggerOn { get; set; }
        public bool Lit { get; set; }
        public bool Written { get; set; }
    }
}
