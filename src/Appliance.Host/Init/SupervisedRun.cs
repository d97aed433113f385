using Appliance.Host.Leds;
using Appliance.Host.Service;
using Appliance.Host.State;

namespace Appliance.Host.Init;

/// <summary>What one attempt of the <see cref="ApplianceBody"/> gets: the stop token,
/// the shared state, the LED controller (null where there are no LEDs, e.g. unit tests), and a way to say
/// "I am up", which clears the supervisor's fault and resets the backoff; under systemd (`run` with $NOTIFY_SOCKET)
/// the <see cref="Notifier"/> that tells systemd the same, with status lines and watchdog pings.</summary>
public sealed class SupervisedRun(CancellationToken stopping, ApplianceState state, LedController? leds, Action reportStarted,
    ServiceNotifier? notifier = null)
{
    public ServiceNotifier? Notifier { get; } = notifier;

    public CancellationToken Stopping { get; } = stopping;
    public ApplianceState State { get; } = state;
    public LedController? Leds { get; } = leds;

    public void ReportStarted() => reportStarted();
}
