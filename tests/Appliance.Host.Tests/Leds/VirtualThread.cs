namespace Appliance.Host.Tests.Leds;

/// <summary>Runs code that sleeps on a <see cref="FakeTimeSource"/> on its own thread. When the code ends
/// (returns or throws) the thread parks on the clock until disposal, so <see cref="FakeTimeSource.RunUntil"/>
/// never waits for a thread that is gone.</summary>
public sealed class VirtualThread : IDisposable
{
    private readonly FakeTimeSource _time;
    private readonly CancellationTokenSource _release = new();
    private readonly Thread _thread;
    private volatile bool _finished;

    public VirtualThread(FakeTimeSource time, Action body)
    {
        _time = time;
        _thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { Failure = e; }
            finally
            {
                _finished = true;
                _time.WaitUntil(TimeSpan.MaxValue, _release.Token);
            }
        }) { IsBackground = true, Name = "virtual-thread" };
        _thread.Start();
    }

    public bool Finished => _finished;
    public Exception? Failure { get; private set; }

    public void RunUntil(TimeSpan until) => _time.RunUntil(until);

    public void RunUntil(double seconds) => _time.RunUntil(TimeSpan.FromSeconds(seconds));

    /// <summary>Steps virtual time by <paramref name="step"/> until the code has finished (or <paramref name="limit"/>).</summary>
    public void RunToEnd(TimeSpan step, TimeSpan limit)
    {
        while (!_finished)
        {
            if (_time.Now >= limit) throw new TimeoutException($"still running at virtual time {_time.Now}");
            _time.RunUntil(_time.Now + step);
        }
    }

    public void Dispose()
    {
        _release.Cancel();
        _thread.Join();
        _release.Dispose();
    }
}
