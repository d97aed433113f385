namespace Appliance.Host.Time;

/// <summary>The monotonic clock the LED scheduler and the init supervisor run on. Production uses
/// <see cref="MonotonicTimeSource"/>; tests use a virtual clock that advances deterministically.</summary>
public interface ITimeSource
{
    /// <summary>Time since an arbitrary fixed origin (monotonic, never goes back).</summary>
    TimeSpan Now { get; }

    /// <summary>Blocks until <see cref="Now"/> has reached <paramref name="deadline"/> or
    /// <paramref name="cancel"/> is cancelled (then it returns early, without throwing).</summary>
    void WaitUntil(TimeSpan deadline, CancellationToken cancel);
}
