namespace Appliance.Host.Init;

/// <summary>How long the supervisor waits before running a failed body again: <see cref="Initial"/>, doubled
/// after each failure up to <see cref="Max"/>, back to <see cref="Initial"/> once an attempt reports it
/// started. Unlike procd (5 retries, then stays down) PID 1 never gives up.</summary>
public sealed record RestartBackoff(TimeSpan Initial, TimeSpan Max)
{
    public static readonly RestartBackoff Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    public TimeSpan After(TimeSpan previous)
    {
        var doubled = previous + previous;
        return doubled > Max ? Max : doubled;
    }
}
