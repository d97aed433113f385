using System.Globalization;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Oracle;
using Appliance.Interop;

namespace Appliance.Bench;

/// <summary>ns per run of each example program (out/programs/*.bpf.o) on a 64-byte and a 1500-byte frame:
/// in the appliance's interpreter and in its JIT (<see cref="EngineObject.Measure"/>, the same frame and run
/// count) beside the kernel's
/// JIT (<see cref="KernelObject.Run"/>, BPF_PROG_TEST_RUN with repeat = the same run count; ours by CPU time,
/// with the wall clock beside it), the median of
/// <see cref="BenchOptions.Repetitions"/> repetitions each. After timing, both sides must agree on the last
/// verdict and on the frame the runs left (the JIT too); a mismatch, a fault or an allocating run fails the benchmark.</summary>
public static class ProgramBenchmark
{
    public static readonly int[] FrameSizes = [64, 1500];

    public static int Run(BenchOptions options)
    {
        Console.WriteLine($"# eBPF example programs: appliance interpreter and JIT vs kernel JIT (BPF_PROG_TEST_RUN repeat)");
        Console.WriteLine();
        Console.WriteLine($"kernel {ReadOr("/proc/sys/kernel/osrelease")}, {CpuModel()}, {Environment.ProcessorCount} CPU(s) visible to this process, load average {Measurement.LoadAverage()} at start; " +
            $"median of {BenchOptions.Repetitions} repetitions of ~{options.SecondsPerMeasurement} s each; objects from {options.ProgramsDirectory}");
        Console.WriteLine();
        int failures = options.Only is null ? InterpreterMicrobenchmarks.Run(options) + StackClearingBenchmark.Run(options) : 0;
        Console.WriteLine();
        Console.WriteLine("ours = CPU time of the process per run (interpreter wall clock beside it: higher when other processes share the CPU); " +
            "JIT = the same program as native code from our JIT (run --no-jit picks the interpreter); " +
            "kernel = BPF_PROG_TEST_RUN's average duration over the same run count; ratio = ours / kernel.");
        Console.WriteLine();
        Console.WriteLine("| program | section | frame B | interpreter ns/run | JIT ns/run | kernel ns/run | interpreter ratio | JIT ratio | interpreter ns/instruction | instructions/run | interpreter wall ns/run | runs | path, last verdict |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var ratios = new List<double>();
        var jitRatios = new List<double>();
        string? kernelUnavailable = null;
        foreach (var c in ProgramCase.All)
        {
            if (options.Only is not null && c.Example != options.Only) continue;
            string path = Path.Combine(options.ProgramsDirectory, c.Example + ".bpf.o");
            var obj = BpfObjectLoader.Load(path);
            var scenario = c.Scenario;
            var entries = scenario.Entries.Concat(c.ExtraEntries).ToArray();
            using var engine = new EngineObject(obj);
            using var jit = new EngineObject(obj, jit: true);
            using var kernel = TryLoadKernel(obj, ref kernelUnavailable);
            foreach (var (map, key, value) in entries)
            {
                int rc = engine.Map(map).UpdateFromUser(key, value, 0);
                if (rc != 0) throw new InvalidOperationException($"{c.Example}: engine map '{map}' refused the benchmark entry (returned {rc})");
                if (jit.Map(map).UpdateFromUser(key, value, 0) != 0) throw new InvalidOperationException($"{c.Example}: JIT map '{map}' refused the benchmark entry");
                kernel?.Update(map, key, value);
            }
            string section = obj.Programs.Single(p => p.Name == scenario.Program).Section;
            foreach (int size in FrameSizes)
            {
                var frame = c.Frame(size);
                var warm = Measurement.WarmUp(() => engine.Measure(scenario.Program, frame, Measurement.MinRuns));
                long runs = Measurement.RunsFor(options.SecondsPerMeasurement, warm.CpuNsPerRun);
                var ours = Enumerable.Range(0, BenchOptions.Repetitions).Select(_ => engine.Measure(scenario.Program, frame, runs)).ToArray();
                double oursNs = Measurement.Median(ours.Select(t => t.CpuNsPerRun));
                double oursWallNs = Measurement.Median(ours.Select(t => t.NsPerRun));
                var last = ours[^1];
                Measurement.WarmUp(() => jit.Measure(scenario.Program, frame, Measurement.MinRuns));
                var jitRuns = Enumerable.Range(0, BenchOptions.Repetitions).Select(_ => jit.Measure(scenario.Program, frame, runs)).ToArray();
                double jitNs = Measurement.Median(jitRuns.Select(t => t.CpuNsPerRun));
                var jitLast = jitRuns[^1];
                var problems = new List<string>();
                if (last.LastRun.Faulted) problems.Add($"engine faulted: {last.LastRun.Fault} at instruction {last.LastRun.FaultInstruction}");
                if (ours.Any(t => t.AllocatedBytes > 0)) problems.Add($"engine runs allocated {ours.Max(t => t.AllocatedBytes)} bytes over {runs} runs");
                if (jitLast.LastRun.Faulted) problems.Add($"JIT faulted: {jitLast.LastRun.Fault} at instruction {jitLast.LastRun.FaultInstruction}");
                if (jitRuns.Any(t => t.AllocatedBytes > 0)) problems.Add($"JIT runs allocated {jitRuns.Max(t => t.AllocatedBytes)} bytes over {runs} runs");
                if (jitLast.LastRun.R0 != last.LastRun.R0 || !jitLast.FrameAfter.AsSpan().SequenceEqual(last.FrameAfter))
                    problems.Add($"JIT and interpreter differ: verdict {jitLast.LastRun.Verdict} vs {last.LastRun.Verdict}, or the frame after the runs");

                string kernelNs = "n/a", ratio = "n/a", jitRatio = "n/a";
                if (kernel is not null)
                {
                    uint repeat = (uint)Math.Min(runs, uint.MaxValue);
                    var k = Enumerable.Range(0, BenchOptions.Repetitions).Select(_ => kernel.Run(scenario.Program, frame, repeat: repeat)).ToArray();
                    double kNs = Measurement.Median(k.Select(r => (double)r.DurationNs));
                    if ((uint)last.LastRun.R0 != k[^1].Retval)
                        problems.Add($"verdict differs: kernel {(int)k[^1].Retval}, engine {last.LastRun.Verdict}");
                    else if (!k[^1].Frame.AsSpan().SequenceEqual(last.FrameAfter))
                        problems.Add($"frame after the runs differs (kernel {k[^1].Frame.Length} B, engine {last.FrameAfter.Length} B)");
                    kernelNs = kNs.ToString("F0", CultureInfo.InvariantCulture);
                    if (kNs > 0)
                    {
                        ratios.Add(oursNs / kNs);
                        ratio = (oursNs / kNs).ToString("F1", CultureInfo.InvariantCulture) + "x";
                        jitRatios.Add(jitNs / kNs);
                        jitRatio = (jitNs / kNs).ToString("F2", CultureInfo.InvariantCulture) + "x";
                    }
                }
                long insns = last.LastRun.InstructionsExecuted;
                Console.WriteLine($"| {c.Example} | {section} | {size} | {oursNs:F1} | {jitNs:F1} | {kernelNs} | {ratio} | {jitRatio} | " +
                    $"{(insns > 0 ? (oursNs / insns).ToString("F2", CultureInfo.InvariantCulture) : "n/a")} | {insns} | {oursWallNs:F1} | {runs} | {c.Path}: {last.LastRun.Verdict} |");
                foreach (var p in problems) Console.Error.WriteLine($"error: {c.Example} ({size} B): {p}");
                failures += problems.Count;
            }
        }
        Console.WriteLine();
        if (kernelUnavailable is not null) Console.WriteLine($"kernel side not measured: {kernelUnavailable}");
        if (ratios.Count > 0)
            Console.WriteLine($"interpreter/kernel: median {Measurement.Median(ratios):F1}x, worst {ratios.Max():F1}x (target: at most 5x the kernel's JIT); " +
                $"JIT/kernel: median {Measurement.Median(jitRatios):F2}x, worst {jitRatios.Max():F2}x (goal: at most 1x)");
        Console.WriteLine($"load average {Measurement.LoadAverage()} at end");
        return failures == 0 ? 0 : 1;
    }

    private static KernelObject? TryLoadKernel(BpfObject obj, ref string? unavailable)
    {
        if (unavailable is not null) return null;
        try
        {
            return KernelObject.Load(obj);
        }
        catch (PlatformException ex) when (ex.Errno is 1 or 13) // EPERM, EACCES: not root / no CAP_BPF
        {
            unavailable = $"{ex.Message} (run as root for the kernel's BPF_PROG_TEST_RUN times)";
            return null;
        }
    }

    private static string ReadOr(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return "?"; }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return "unknown CPU"; }
    }
}
