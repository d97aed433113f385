namespace Appliance.TestSupport;

/// <summary>Waits for a condition the appliance signals through its counters (bounded; polls every 10 ms).</summary>
public static class Eventually
{
    public static bool True(Func<bool> condition, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    public static void Equal(long expected, Func<long> actual, string what, int timeoutMs = 5000)
    {
        if (!True(() => actual() == expected, timeoutMs))
            throw new Xunit.Sdk.XunitException($"{what}: expected {expected}, still {actual()} after {timeoutMs} ms");
    }
}
