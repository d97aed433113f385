using Appliance.Datapath.Diagnostics;
using Appliance.Host.Init;
using Appliance.Host.Leds.Triggers;
using Appliance.Host.Tests.Leds;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Init;

public sealed class SupervisorTests
{
    private readonly FakeTimeSource _time = new();
    private readonly ApplianceState _state = new();
    private readonly StringWriter _log = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<double> _attemptsAt = [];

    private Supervisor Supervisor() => new(_state, _time, new Logger(TextWriter.Synchronized(_log)), RestartBackoff.Default);

    private void Attempt()
    {
        lock (_attemptsAt) _attemptsAt.Add(_time.Now.TotalSeconds);
    }

    private double[] Attempts()
    {
        lock (_attemptsAt) return [.. _attemptsAt];
    }

    [Fact]
    public void A_body_that_always_throws_is_retried_with_doubling_backoff_capped_at_30s_and_never_given_up()
    {
        using var thread = new VirtualThread(_time, () => Supervisor().Run(run =>
        {
            Attempt();
            throw new InvalidOperationException("XDP attach failed on eth0");
        }, _stop.Token));

        thread.RunUntil(60);
        Assert.Equal([0, 1, 3, 7, 15, 31], Attempts());
        Assert.True(_state.HasFault);
        Assert.Contains("XDP attach failed on eth0", _state.Faults[Host.Init.Supervisor.FaultSource]);

        thread.RunUntil(3600); // an hour of failures: still retrying every 30 s
        var attempts = Attempts();
        Assert.False(thread.Finished);
        Assert.Equal(6 + (3600 - 31) / 30, attempts.Length);
        Assert.All(attempts.Skip(6).Zip(attempts.Skip(5)), p => Assert.Equal(30, p.First - p.Second));
        Assert.Contains("retry_in=30s", _log.ToString());

        _stop.Cancel();
        thread.RunToEnd(TimeSpan.FromSeconds(1), TimeSpan.FromHours(2));
        Assert.Null(thread.Failure);
    }

    [Fact]
    public void Reporting_started_clears_the_fault_and_resets_the_backoff()
    {
        using var thread = new VirtualThread(_time, () => Supervisor().Run(run =>
        {
            Attempt();
            int attempt = Attempts().Length;
            if (attempt == 1) throw new IOException("port eth1 missing");
            run.ReportStarted();
            if (attempt == 2)
            {
                _time.WaitUntil(_time.Now + TimeSpan.FromSeconds(100), run.Stopping); // runs healthy for 100 s
                throw new InvalidOperationException("datapath crashed");
            }
            _time.WaitUntil(TimeSpan.MaxValue, run.Stopping); // healthy until stopped
        }, _stop.Token));

        thread.RunUntil(50);
        Assert.Equal([0, 1], Attempts());
        Assert.False(_state.HasFault); // attempt 2 is up

        thread.RunUntil(101.5);
        Assert.True(_state.HasFault); // attempt 2 crashed at 101 s
        Assert.Contains("datapath crashed", _state.Faults[Host.Init.Supervisor.FaultSource]);

        thread.RunUntil(200);
        Assert.Equal([0, 1, 102], Attempts()); // 1 s after the crash, not 2 s: the backoff was reset
        Assert.False(_state.HasFault);

        _stop.Cancel();
        thread.RunToEnd(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(300));
        Assert.Null(thread.Failure);
        Assert.Equal(3, Attempts().Length);
    }

    [Fact]
    public void A_body_returning_without_a_stop_request_is_a_failure_and_is_run_again()
    {
        using var thread = new VirtualThread(_time, () => Supervisor().Run(_ => Attempt(), _stop.Token));
        thread.RunUntil(4);
        Assert.Equal([0, 1, 3], Attempts());
        Assert.Contains("stopped without being asked to", _state.Faults[Host.Init.Supervisor.FaultSource]);
        _stop.Cancel();
        thread.RunToEnd(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Stop_during_the_backoff_ends_the_run_without_another_attempt()
    {
        using var thread = new VirtualThread(_time, () => Supervisor().Run(_ =>
        {
            Attempt();
            throw new InvalidOperationException("boom");
        }, _stop.Token));
        thread.RunUntil(2); // attempts at 0 and 1; now waiting until 3
        _stop.Cancel();
        thread.RunToEnd(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        Assert.Equal([0, 1], Attempts());
        Assert.Contains("stopped", _log.ToString());
    }

    [Fact]
    public void The_status_led_shows_the_supervisor_fault()
    {
        // The supervisor's fault drives the status trigger (LED timing itself is covered by the LED tests).
        using var thread = new VirtualThread(_time, () => Supervisor().Run(_ => throw new InvalidOperationException("x"), _stop.Token));
        thread.RunUntil(0.5);
        Assert.Equal(StatusMode.Fault, StatusTrigger.ModeOf(_state));
        _stop.Cancel();
        thread.RunToEnd(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }
}
