using Appliance.Bench;

// Usage: Appliance.Bench bpf [--programs DIR] [--seconds S] [--only NAME]
//   bpf: ns per run of each example eBPF program in the appliance's interpreter and JIT beside the kernel's JIT
//   (--only NAME: that example alone, without the interpreter microbenchmarks: for profiling one program).
if (args.Length == 0 || args[0] != "bpf")
{
    Console.Error.WriteLine("usage: Appliance.Bench bpf [--programs DIR (default out/programs)] [--seconds S (time per measurement, default 0.5)] [--only NAME (one example)]");
    return 2;
}
return ProgramBenchmark.Run(BenchOptions.Parse(args.AsSpan(1)));
