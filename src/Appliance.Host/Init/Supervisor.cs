using Appliance.Datapath.Diagnostics;
using Appliance.Host.Leds;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Init;

/// <summary>Runs the appliance body forever: when it throws (or returns without being asked to stop) the
/// failure is logged, raised as a fault under <see cref="FaultSource"/> (the status/fault LEDs show it), and
/// the body runs again after a backoff. <see cref="Run"/> returns only when <c>stopping</c> is cancelled,
/// which never happens as PID 1.</summary>
public sealed class Supervisor(ApplianceState state, ITimeSource time, Logger log, RestartBackoff backoff, LedController? leds = null)
{
    public const string FaultSource = "supervisor";

    public void Run(ApplianceBody body, CancellationToken stopping)
    {
        var delay = backoff.Initial;
        for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            var started = false;
            var run = new SupervisedRun(stopping, state, leds, () =>
            {
                started = true;
                state.ClearFault(FaultSource);
                log.Info("supervisor", "appliance started", ("attempt", attempt));
            });
            string failure;
            try
            {
                body(run);
                if (stopping.IsCancellationRequested) break;
                failure = "the appliance stopped without being asked to";
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
            }
            if (started) delay = backoff.Initial;
            state.RaiseFault(FaultSource, failure);
            log.Error("supervisor", failure, ("attempt", attempt), ("retry_in", $"{delay.TotalSeconds}s"));
            time.WaitUntil(time.Now + delay, stopping);
            delay = backoff.After(delay);
        }
        log.Info("supervisor", "stopped");
    }
}
