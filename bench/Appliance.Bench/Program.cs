using Appliance.Bench;

// Usage: Appliance.Bench bpf [--programs DIR] [--seconds S] [--only NAME]
//   bpf: ns per run of each example eBPF program in the appliance's interpreter and JIT beside the kernel's JIT
//   (--only NAME: that example alone, without the interpreter microbenchmarks: for profiling one program).
// Usage: Appliance.Bench engine [--programs DIR] [--seconds S] [--only engine|jit|interpreter]
//   engine: CPU ns per frame of the forwarding worker's own work on the meta-pair bench's path, in process.
const string Usage = "usage: Appliance.Bench bpf|engine [--programs DIR (default out/programs)] [--seconds S (time per measurement, default 0.5)] [--only NAME (one example or row)]";
if (args.Length == 0 || args[0] is not ("bpf" or "engine"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}
BenchOptions options;
try
{
    options = BenchOptions.Parse(args.AsSpan(1));
}
catch (Exception e) when (e is ArgumentException or FormatException or DirectoryNotFoundException)
{
    Console.Error.WriteLine($"Appliance.Bench: {e.Message}\n{Usage}");
    return 2;
}
return args[0] == "bpf" ? ProgramBenchmark.Run(options) : EngineBenchmark.Run(options);
