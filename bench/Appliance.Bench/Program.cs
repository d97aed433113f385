using Appliance.Bench;

// Usage: Appliance.Bench bpf [--programs DIR] [--seconds S]
//   bpf: ns per run of each example eBPF program in the appliance's interpreter beside the kernel's JIT.
if (args.Length == 0 || args[0] != "bpf")
{
    Console.Error.WriteLine("usage: Appliance.Bench bpf [--programs DIR (default out/programs)] [--seconds S (time per measurement, default 0.5)]");
    return 2;
}
return ProgramBenchmark.Run(BenchOptions.Parse(args.AsSpan(1)));
