using Appliance.Datapath.Diagnostics;
using Appliance.Host.Leds.Triggers;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Leds;

/// <summary>Owns the LED thread: one scheduler, independent of the datapath, that evaluates every LED's
/// trigger at the trigger's own deadlines (blink edges, activity samples) and whenever the appliance state changes
/// (<see cref="ApplianceState.Changed"/>), the LEDs are reconfigured or night mode is switched, and writes a line
/// only when its value changes. Between those it sleeps: LEDs that only follow the state (status while running,
/// link, fault, on, off) cost no wake-up at all until something changes. Night mode (<see cref="AllOff"/>) holds every LED off while
/// the triggers keep running; turning it back on restores what the triggers show at that moment.
/// A failing LED line is logged once and skipped; it never stops the thread or the other LEDs.</summary>
public sealed class LedController : IDisposable
{
    /// <summary>How long the LED thread waits before trying again after a scheduler pass failed (a trigger bug).</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMilliseconds(250);

    private readonly LedLineFactory _lines;
    private readonly ApplianceState _state;
    private readonly ITimeSource _time;
    private readonly Logger _log;
    private readonly object _gate = new();
    private List<Led> _leds = [];
    private bool _allOff;
    private Thread? _thread;
    private bool _stopping;
    /// <summary>Cancelled to end the LED thread's current wait early (<see cref="Wake"/>); replaced once it has.</summary>
    private CancellationTokenSource _wake = new();

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
            _wake.Cancel(); // the new LEDs show at once
        }
        return errors;
    }

    /// <summary>Night mode: true turns every LED off; false shows the triggers again.</summary>
    public bool AllOff
    {
        get { lock (_gate) return _allOff; }
        set
        {
            lock (_gate)
            {
                _allOff = value;
                _wake.Cancel();
            }
        }
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
    /// and returns when the next pass is due (<see cref="TimeSpan.MaxValue"/>: only at the next change).</summary>
    public TimeSpan Tick(TimeSpan now)
    {
        lock (_gate)
        {
            var next = TimeSpan.MaxValue;
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
            _stopping = false;
            _state.Changed += Wake;
            _thread = new Thread(Loop) { IsBackground = true, Name = "leds" };
            _thread.Start();
        }
    }

    /// <summary>Ends the LED thread's wait: the state changed (<see cref="ApplianceState.Changed"/>, on the changing thread).</summary>
    private void Wake()
    {
        lock (_gate) _wake.Cancel();
    }

    private void Loop()
    {
        while (true)
        {
            CancellationToken wake;
            lock (_gate)
            {
                if (_stopping) return;
                if (_wake.IsCancellationRequested)
                {
                    _wake.Dispose();
                    _wake = new CancellationTokenSource(); // before the pass: a change during it ends the next wait at once
                }
                wake = _wake.Token;
            }
            TimeSpan next;
            try
            {
                next = Tick(_time.Now);
            }
            catch (Exception e)
            {
                // A trigger bug must not end the LED thread (and, as PID 1, must not end the process).
                _log.Error("leds", $"LED scheduler pass failed: {e.Message}");
                next = _time.Now + RetryAfterFailure;
            }
            _time.WaitUntil(next, wake);
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
            _stopping = true;
            _wake.Cancel();
        }
        _state.Changed -= Wake;
        thread?.Join();
        lock (_gate)
        {
            CloseAll();
            _leds = [];
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
