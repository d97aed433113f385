using Appliance.Host.Time;

namespace Appliance.Host.Tests.Init;

/// <summary>A clock the test sets by hand, for code that only reads the time (nothing sleeps on it).</summary>
public sealed class ManualClock : ITimeSource
{
    public TimeSpan Now { get; set; }

    public void Set(int milliseconds) => Now = TimeSpan.FromMilliseconds(milliseconds);

    public void WaitUntil(TimeSpan deadline, CancellationToken cancel) =>
        throw new NotSupportedException("ManualClock is for code that reads the time only");
}
