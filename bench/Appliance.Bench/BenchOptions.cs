namespace Appliance.Bench;

/// <summary>Command-line options of the eBPF benchmark: where the built example objects are, and how long
/// each measurement runs (the run count is chosen to fill that time), and optionally the one example to measure
/// (<c>--only NAME</c>, for profiling one program; the bench of record measures them all).</summary>
public sealed record BenchOptions(string ProgramsDirectory, double SecondsPerMeasurement, string? Only = null)
{
    public const int Repetitions = 3;

    public static BenchOptions Parse(ReadOnlySpan<string> args)
    {
        string dir = Path.Combine(Environment.GetEnvironmentVariable("META_APPLIANCE_OUT") ?? "out", "programs");
        double seconds = 0.5;
        string? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"option {args[i]} needs a value");
            switch (args[i])
            {
                case "--programs": dir = value; break;
                case "--seconds": seconds = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "--only": only = value; break;
                default: throw new ArgumentException($"unknown option {args[i]}; expected --programs DIR, --seconds S or --only NAME");
            }
            i++;
        }
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"no built example programs in {Path.GetFullPath(dir)}: run `make -C programs OUT=out/programs` (or ./build.sh deps) first");
        return new BenchOptions(Path.GetFullPath(dir), seconds, only);
    }
}
