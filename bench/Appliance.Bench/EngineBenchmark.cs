using Appliance.Bpf.Oracle;
using System.Diagnostics;
using Appliance.Config;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Xsk;

namespace Appliance.Bench;

/// <summary>The forwarding worker's own cost per frame, the part of the forwarding core's time that is ours: the
/// meta-pair bench's path (a port, an l2 pair whose primary chain runs the counter example, the tenant) turned by
/// hand over <see cref="LoopKernel"/>s that feed the port one 60-byte frame to the tenant's MAC forever and complete
/// what goes out at once, on this thread: no copy, no syscall, no other CPU. The shared harness's Mpps depend on how
/// far apart the host puts the generator's and forwarder's CPUs (a cache line's round trip between them has been
/// 130 ns and 500 ns on this machine on different days); this does not, so it shows what a change to the hot path
/// gains or costs. Cases: the engine alone (a static cross-connect: rings, UMEM ledger, batching, the TX kick); the
/// pair path with the program in the JIT (run's default) and in the interpreter (--no-jit). Per case: CPU ns per
/// frame (median of repetitions, by the process's CPU time), and bytes allocated per frame (the hot path allocates
/// nothing). <c>--only engine|jit|interpreter</c> measures one case (for profiling).</summary>
public static class EngineBenchmark
{
    private const uint FrameLength = 60;

    public static int Run(BenchOptions options)
    {
        Console.WriteLine($"## Forwarding worker, in process: CPU ns per frame of our own work ({FrameLength} B frames, batches of {ForwardingEngine.Batch})");
        Console.WriteLine();
        Console.WriteLine($"load average {Measurement.LoadAverage()} at start; median of {BenchOptions.Repetitions} repetitions of ~{options.SecondsPerMeasurement} s each; objects from {options.ProgramsDirectory}");
        Console.WriteLine();
        Console.WriteLine("| case | ns/frame | Mframes/s of one core | allocated B/frame | frames timed |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Row("engine", "engine alone (static cross-connect)", options, () => new Setup(StaticForwarding.CrossConnect(), null));
        Row("jit", "port → l2 pair, counter program (JIT)", options, () => PairSetup(options, useJit: true));
        Row("interpreter", "port → l2 pair, counter program (interpreter)", options, () => PairSetup(options, useJit: false));
        Console.WriteLine();
        Console.WriteLine($"load average {Measurement.LoadAverage()} at end");
        return 0;
    }

    private static void Row(string key, string name, BenchOptions options, Func<Setup> make)
    {
        if (options.Only is not null && options.Only != key) return;
        using var setup = make();
        setup.Turns(20_000); // warm-up: every frame of the UMEM through the path, the tables touched
        var probe = setup.Time(1000);
        long turns = Math.Max(1000, (long)(options.SecondsPerMeasurement * 1e9 / Math.Max(1, probe.CpuNsPerFrame * ForwardingEngine.Batch)));
        var runs = Enumerable.Range(0, BenchOptions.Repetitions).Select(_ => setup.Time(turns)).ToArray();
        double ns = Measurement.Median(runs.Select(r => r.CpuNsPerFrame));
        double alloc = runs.Max(r => r.AllocatedPerFrame);
        // Every frame Setup.Time forwarded, the probe's included: under `valgrind --tool=callgrind
        // --toggle-collect='*Setup*Time*'` the instructions counted divided by this are instructions per frame.
        long timed = probe.Frames + runs.Sum(r => r.Frames);
        Console.WriteLine($"| {name} | {ns:F1} | {1e3 / ns:F2} | {alloc:F2} | {timed} |");
    }

    private static Setup PairSetup(BenchOptions options, bool useJit)
    {
        // The meta-pair bench's config (bench/meta-pair.sh), with the tenant's MAC given (the frames' destination)
        // rather than read from s0.
        string config = $$"""
            {
              "board": "bench",
              "ports": [{ "name": "fwd-in", "unclaimed": "drop" }],
              "pairs": [{ "name": "bench-pair", "mode": "l2", "uplink": "fwd-in",
                          "tenant": { "netns": "pfsink", "interface": "s0", "mac": "{{MacAddress.Read(PacketBuilder.DstMac)}}" },
                          "primary": { "policy": "pass", "chain": [{ "program": "count" }] }, "peer": { "policy": "drop" } }],
              "programs": [{ "name": "count", "object": "counter.bpf.o", "section": "tc" }]
            }
            """;
        var loaded = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes(config), "engine-bench.json", options.ProgramsDirectory);
        if (!loaded.IsValid) throw new InvalidOperationException("engine bench config: " + string.Join("; ", loaded.Errors));
        var offline = OfflineTopology.Build(loaded.Config!, options.ProgramsDirectory, options.ProgramsDirectory);
        var handler = new PairFrameHandler(new TopologySource(offline.Topology), useJit: useJit);
        return new Setup(handler, handler);
    }

    private readonly record struct Timing(double CpuNsPerFrame, double AllocatedPerFrame, long Frames);

    /// <summary>Two ports over loop kernels sharing one UMEM (the appliance's copy mode on one worker): port 0 is fed,
    /// port 1 transmits; the worker is turned by hand.</summary>
    private sealed unsafe class Setup : IDisposable
    {
        private readonly XskOptions _options = new();
        private readonly LoopKernel _in, _out;
        private readonly ForwardingEngine _engine;
        private readonly EngineWorker _worker;
        private readonly IDisposable? _owned;

        public Setup(IFrameHandler handler, IDisposable? owned)
        {
            _owned = owned;
            var umem = new Umem("engine-bench", 2 * _options.FramesPerPort, _options.FrameSize, _options.Headroom);
            _in = new LoopKernel(umem, "bench-in", _options.RxRingSize) { FrameLength = FrameLength };
            _out = new LoopKernel(umem, "bench-out", _options.RxRingSize) { FrameLength = FrameLength };
            // Every UMEM frame holds the one frame where the kernel would write it: the path reads it and changes nothing.
            // Ethernet + IPv4 + UDP of FrameLength bytes, to PacketBuilder.DstMac (the pair's tenant), as the harness's
            // generator sends.
            var frame = PacketBuilder.Ipv4(PacketBuilder.Udp, [198, 18, 0, 1], [198, 19, 0, 1], 4096, 4097, (int)FrameLength - 14 - 20 - 8);
            if (frame.Length != FrameLength) throw new InvalidOperationException($"the bench frame has {frame.Length} bytes, not {FrameLength}");
            for (uint f = 0; f < umem.FrameCount; f++)
                frame.CopyTo(new Span<byte>(umem.Pointer(f * (ulong)umem.FrameSize + LoopKernel.DataOffset(umem)), frame.Length));
            var ports = new[]
            {
                XskPort.Over(0, _in, umem, ownsUmem: true, _options.FillFrames),
                XskPort.Over(1, _out, umem, ownsUmem: false, _options.FillFrames),
            };
            _engine = new ForwardingEngine(XskPortSet.Of(ports, _options), handler);
            _worker = _engine.WorkerAt(0);
        }

        public void Turns(long turns)
        {
            for (long t = 0; t < turns; t++)
            {
                _in.Feed(ForwardingEngine.Batch);
                _worker.Turn();
            }
        }

        public Timing Time(long turns)
        {
            long sent = _out.Transmitted;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = Environment.CpuUsage.TotalTime;
            Turns(turns);
            double ns = (Environment.CpuUsage.TotalTime - cpu).TotalNanoseconds;
            long frames = _out.Transmitted - sent;
            if (frames < turns * ForwardingEngine.Batch)
                throw new InvalidOperationException($"the path forwarded {frames} frames in {turns} turns of {ForwardingEngine.Batch}: it drops");
            return new Timing(ns / frames, (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / frames, frames);
        }

        public void Dispose()
        {
            _engine.Dispose();
            _in.Dispose();
            _out.Dispose();
            _owned?.Dispose();
        }
    }
}
