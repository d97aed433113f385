using Appliance.Datapath.Diagnostics;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Backends;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Leds;

/// <summary>An LED controller on the in-memory GPIO backend (chip "test-chip", 8 lines) and a virtual clock,
/// with its scheduler thread running. Edges are read back as (ms, physical level) per line.</summary>
public sealed class LedRig : IDisposable
{
    public const string Chip = "test-chip";

    public FakeTimeSource Time { get; } = new();
    public ApplianceState State { get; } = new();
    public InMemoryGpioBackend Gpio { get; }
    public LedController Controller { get; }
    public StringWriter Log { get; } = new();

    public LedRig()
    {
        Gpio = new InMemoryGpioBackend(Time).WithChip(Chip, 8);
        Controller = new LedController(new LedLineFactory(() => Gpio), State, Time, new Logger(Log));
    }

    public static LedSpec Led(string name, int offset, string trigger, bool activeLow = false) =>
        new(name, new GpioLineAddress(Chip, offset, activeLow), trigger);

    /// <summary>Configures the LEDs and starts the scheduler thread at virtual time 0.</summary>
    public LedRig Start(params LedSpec[] leds) => Start(new LedSetup(leds));

    public LedRig Start(LedSetup config)
    {
        var errors = Controller.Configure(config);
        if (errors.Count > 0) throw new InvalidOperationException(string.Join("\n", errors));
        Controller.Start();
        return this;
    }

    public void RunUntil(int ms) => Time.RunUntil(ms);

    /// <summary>The physical level changes of a line after it was opened, as (ms, high).</summary>
    public List<(double Ms, bool High)> Edges(int offset) =>
        [.. Gpio.TransitionsOf(Chip, offset).Skip(1).Select(t => (t.At.TotalMilliseconds, t.High))];

    /// <summary>The level a line was opened with.</summary>
    public bool OpenedHigh(int offset) => Gpio.TransitionsOf(Chip, offset)[0].High;

    /// <summary>The edges of a blink starting "on" at <paramref name="fromMs"/>, for the phases given, up to and including <paramref name="untilMs"/>.</summary>
    public static List<(double Ms, bool High)> Blink(int fromMs, int untilMs, params int[] phasesMs)
    {
        var edges = new List<(double, bool)>();
        var t = fromMs;
        for (var i = 0; t <= untilMs; i++)
        {
            edges.Add((t, i % 2 == 0));
            t += phasesMs[i % phasesMs.Length];
        }
        return edges;
    }

    public void Dispose() => Controller.Dispose();
}
