namespace Appliance.Bench;

/// <summary>Helpers shared by the measurements: the median of repetitions, and how many runs fill the
/// time budget of one measurement.</summary>
public static class Measurement
{
    public const long MinRuns = 10_000, MaxRuns = 50_000_000;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no values to take the median of", nameof(values));
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Seconds of warm-up before each measurement (caches, branch predictors, map entries touched;
    /// the bench runs without tiered compilation, so the code is final from the first call).</summary>
    public const double WarmupSeconds = 0.1;

    /// <summary>Repeats <paramref name="pass"/> for at least <see cref="WarmupSeconds"/> and returns the last result.</summary>
    public static T WarmUp<T>(Func<T> pass)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        T last = pass();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds < WarmupSeconds) last = pass();
        return last;
    }

    /// <summary>Runs that take about <paramref name="seconds"/> at <paramref name="nsPerRun"/>.</summary>
    public static long RunsFor(double seconds, double nsPerRun) =>
        Math.Clamp((long)(seconds * 1e9 / Math.Max(nsPerRun, 0.1)), MinRuns, MaxRuns);

    /// <summary>The 1-minute load average, to show how busy the machine was.</summary>
    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }
}
