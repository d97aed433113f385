using Appliance.Bpf.Context;
using Appliance.Bpf.Jit;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>The JIT against the interpreter (the reference) on thousands of random verifier-valid programs
/// (<see cref="RandomPrograms"/>): for each, the same r0, the same fault at the same instruction, and the
/// same packet bytes, <c>__sk_buff</c> writes, redirect and map contents afterwards.</summary>
public sealed class JitDifferentialTests(ITestOutputHelper output)
{
    public const int Programs = 3000;

    [Fact]
    public void JitAndInterpreterAgreeOnRandomPrograms()
    {
        Assert.True(BpfJit.IsSupported, "the JIT supports this machine");
        var generator = new RandomPrograms(seed: 12);
        int ran = 0, rejected = 0, faulted = 0;
        var faults = new Dictionary<BpfFault, int>();
        var mismatches = new List<string>();
        for (int p = 0; p < Programs; p++)
        {
            string text = generator.Next(length: 10 + p % 60);
            var frame = new byte[64];
            new Random(p).NextBytes(frame);
            var mapContent = new byte[4 * 32];
            new Random(~p).NextBytes(mapContent);
            var interpreted = RunOnce(text, frame, mapContent, jit: false, out string? rejection);
            if (rejection is not null)
            {
                rejected++;
                continue;
            }
            var compiled = RunOnce(text, frame, mapContent, jit: true, out _);
            ran++;
            if (interpreted.Run.Faulted)
            {
                faulted++;
                faults[interpreted.Run.Fault] = faults.GetValueOrDefault(interpreted.Run.Fault) + 1;
            }
            string? difference = Difference(interpreted, compiled);
            if (difference is not null && mismatches.Count < 5) mismatches.Add($"program {p}: {difference}\n{text}");
            else if (difference is not null) mismatches.Add($"program {p}: {difference}");
        }
        output.WriteLine($"{ran} programs ran on both engines ({faulted} faulted: {string.Join(", ", faults.Select(f => $"{f.Key}×{f.Value}"))}); {rejected} rejected by the verifier");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} program(s) differ:\n{string.Join('\n', mismatches.Take(10))}");
        Assert.True(ran >= Programs * 9 / 10, $"only {ran} of {Programs} generated programs passed the verifier");
        Assert.True(faulted > ran / 20 && faulted < ran * 3 / 4, $"{faulted} of {ran} faulted: the programs should both finish and fault");
    }

    private sealed record Outcome(BpfRunResult Run, byte[] Buffer, byte[] Map, uint Mark, uint Priority, uint[] Cb);

    private static Outcome RunOnce(string text, byte[] frame, byte[] mapContent, bool jit, out string? rejection)
    {
        rejection = null;
        var map = TestArrayMap.Create(32, entries: 4, initial: mapContent);
        LoadedProgram program;
        try
        {
            program = VmTestSupport.Load(text, map);
        }
        catch (BpfVerifierException e)
        {
            rejection = e.Message;
            return null!;
        }
        if (jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(frame);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var run = vm.Run(program, ref packet);
        var cb = new uint[5];
        for (int i = 0; i < cb.Length; i++) cb[i] = packet.Cb[i];
        return new Outcome(run, packet.Buffer.ToArray(), map.Storage.ToArray(), packet.Mark, packet.Priority, cb);
    }

    private static string? Difference(Outcome a, Outcome b)
    {
        if (a.Run.Fault != b.Run.Fault) return $"fault: interpreter {a.Run.Fault} at {a.Run.FaultInstruction}, JIT {b.Run.Fault} at {b.Run.FaultInstruction}";
        if (a.Run.Faulted && a.Run.FaultInstruction != b.Run.FaultInstruction) return $"{a.Run.Fault} at {a.Run.FaultInstruction} (interpreter) vs {b.Run.FaultInstruction} (JIT)";
        if (a.Run.R0 != b.Run.R0) return $"r0: interpreter 0x{a.Run.R0:x}, JIT 0x{b.Run.R0:x}";
        if (a.Run.RedirectIfindex != b.Run.RedirectIfindex) return "redirect target differs";
        if (!a.Buffer.AsSpan().SequenceEqual(b.Buffer)) return "packet bytes differ";
        if (!a.Map.AsSpan().SequenceEqual(b.Map)) return "map contents differ";
        if (a.Mark != b.Mark || a.Priority != b.Priority || !a.Cb.AsSpan().SequenceEqual(b.Cb)) return "__sk_buff writes differ";
        return null;
    }
}
