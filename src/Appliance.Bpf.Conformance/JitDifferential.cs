using Appliance.Bpf.Assembly;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Conformance;

/// <summary>The JIT against the interpreter (the reference) on random verifier-valid programs
/// (<see cref="RandomPrograms"/>): for each, the same r0, the same fault at the same instruction, and the same
/// packet bytes and extent, offloaded VLAN tag, <c>__sk_buff</c> writes, redirect and map contents afterwards. Runs in-process, so the same
/// check runs natively (the test suite) and as the arm64 plugin under qemu-user (<c>--jit-differential N</c>). With
/// <c>runsPerProgram</c> above 1 each engine's one VM runs the program that many times, on frames and metadata of their
/// own, and the last run is compared: the runs after the first take the VM's shortest entry (compiled code's straight
/// path), which must see nothing an earlier run left.</summary>
public static class JitDifferential
{
    public sealed record Report(int Ran, int Rejected, int Faulted, IReadOnlyDictionary<BpfFault, int> Faults, IReadOnlyList<string> Mismatches, string? JitUnavailable)
    {
        /// <summary>Memory accesses of the programs that ran: proven in bounds by the verifier, and compiled with the run-time check.</summary>
        public int Proven { get; init; }
        public int Checked { get; init; }

        /// <summary>Programs that ran and pass callbacks to bpf_loop or bpf_for_each_map_elem.</summary>
        public int WithCallbacks { get; init; }

        public override string ToString() =>
            $"{Ran} programs ran on both engines ({Faulted} faulted: {string.Join(", ", Faults.Select(f => $"{f.Key}×{f.Value}"))}; " +
            $"{Proven} accesses proven, {Checked} checked; {WithCallbacks} with callbacks); " +
            $"{Rejected} rejected by the verifier; {Mismatches.Count} differ" + (JitUnavailable is null ? "" : $"; JIT unavailable: {JitUnavailable}");
    }

    public static Report Run(int programs, int seed, int runsPerProgram = 1)
    {
        var generator = new RandomPrograms(seed);
        int ran = 0, rejected = 0, faulted = 0;
        var faults = new Dictionary<BpfFault, int>();
        var mismatches = new List<string>();
        int proven = 0, checkedAccesses = 0, withCallbacks = 0;
        for (int p = 0; p < programs; p++)
        {
            string text = generator.Next(length: 10 + p % 60);
            var frames = new byte[runsPerProgram][];
            for (int r = 0; r < runsPerProgram; r++)
            {
                frames[r] = new byte[64 - 8 * r % 40]; // the later runs' frames shorter: an earlier run's extent must not stay
                new Random(seed * 7919 + p + 104729 * r).NextBytes(frames[r]);
            }
            var mapContent = new byte[4 * 32];
            new Random(~(seed * 7919 + p)).NextBytes(mapContent);
            var interpreted = RunOnce(text, frames, mapContent, jit: false, out string? problem);
            if (interpreted is null)
            {
                rejected++;
                continue;
            }
            var compiled = RunOnce(text, frames, mapContent, jit: true, out problem);
            if (compiled is null) return new Report(ran, rejected, faulted, faults, mismatches, problem);
            ran++;
            proven += compiled.Program.ProvenAccesses;
            checkedAccesses += compiled.Program.JitCheckedAccesses;
            if (compiled.Program.UsesCallbacks) withCallbacks++;
            if (interpreted.Run.Faulted)
            {
                faulted++;
                faults[interpreted.Run.Fault] = faults.GetValueOrDefault(interpreted.Run.Fault) + 1;
            }
            if (Difference(interpreted, compiled) is { } difference)
                mismatches.Add(mismatches.Count < 5 ? $"program {p}: {difference}\n{text}" : $"program {p}: {difference}");
        }
        return new Report(ran, rejected, faulted, faults, mismatches, null) { Proven = proven, Checked = checkedAccesses, WithCallbacks = withCallbacks };
    }

    private sealed record Outcome(LoadedProgram Program, BpfRunResult Run, byte[] Buffer, byte[] Map, uint Mark, uint Priority, uint[] Cb, (bool, ushort, ushort, int, int) Vlan);

    /// <summary>Runs on one fresh VM and map, one per frame in turn (each frame's metadata its own), and the outcome of the
    /// last; null when the verifier rejects the program or (for the JIT) the JIT did not compile it, with the reason in
    /// <paramref name="problem"/>.</summary>
    private static Outcome? RunOnce(string text, byte[][] frames, byte[] mapContent, bool jit, out string? problem)
    {
        problem = null;
        var maps = RandomPrograms.Maps.Select(def => BpfMap.Create(def)).ToArray();
        foreach (var (index, k, v) in RandomPrograms.InitialEntries(mapContent)) maps[index].Update(k, v, 0);
        var (map, hash) = (maps[0], maps[1]);
        Span<byte> key = stackalloc byte[4];
        LoadedProgram program;
        try
        {
            program = LoadedProgram.Load(new BpfProgramImage("random", "tc", BpfAssembler.Assemble(text)), maps, LinuxHelperTable.Instance);
        }
        catch (BpfVerifierException e)
        {
            problem = e.Message;
            return null;
        }
        if (jit && program.JitUnavailableReason is { } reason)
        {
            problem = reason;
            return null;
        }
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        PacketContext packet = default;
        BpfRunResult run = default;
        byte[] buffer = [];
        for (int r = 0; r < frames.Length; r++)
        {
            var frame = frames[r];
            buffer = new byte[64 + frame.Length + 64];
            frame.CopyTo(buffer, 64);
            packet = PacketContext.FromArray(buffer, 64, frame.Length);
            packet.Protocol = PacketContext.ProtocolOf(frame);
            if (r < frames.Length - 1)
            {
                // Metadata the last run's packet does not have: a mark, cb[], an offloaded tag, another ifindex.
                packet.Mark = 0x5a5a0000u + (uint)r;
                packet.Cb[r % 5] = 0xc0ffee00u + (uint)r;
                packet.VlanPresent = true;
                packet.VlanTci = (ushort)(100 + r);
                packet.VlanProto = 0x8100;
                packet.Ifindex = 40u + (uint)r;
            }
            run = vm.Run(program, ref packet);
        }
        var cb = new uint[5];
        for (int i = 0; i < cb.Length; i++) cb[i] = packet.Cb[i];
        // The array's values, then per hash key 0..5 a presence byte and its value.
        var values = new byte[4 * 32 + 6 * 33];
        for (int i = 0; i < 4; i++)
        {
            BitConverter.TryWriteBytes(key, i);
            if (map.TryLookup(key, out var value)) value.AsSpan().CopyTo(values.AsSpan(i * 32));
        }
        for (int i = 0; i < 6; i++)
        {
            BitConverter.TryWriteBytes(key, i);
            if (!hash.TryLookup(key, out var value)) continue;
            values[4 * 32 + i * 33] = 1;
            value.AsSpan().CopyTo(values.AsSpan(4 * 32 + i * 33 + 1));
        }
        return new Outcome(program, run, packet.Buffer.ToArray(), values, packet.Mark, packet.Priority, cb,
            (packet.VlanPresent, packet.VlanTci, packet.VlanProto, packet.DataOffset, packet.Length));
    }

    private static string? Difference(Outcome a, Outcome b)
    {
        if (a.Run.Fault != b.Run.Fault) return $"fault: interpreter {a.Run.Fault} at {a.Run.FaultInstruction}, JIT {b.Run.Fault} at {b.Run.FaultInstruction}";
        if (a.Run.Faulted && a.Run.FaultInstruction != b.Run.FaultInstruction) return $"{a.Run.Fault} at {a.Run.FaultInstruction} (interpreter) vs {b.Run.FaultInstruction} (JIT)";
        if (a.Run.R0 != b.Run.R0) return $"r0: interpreter 0x{a.Run.R0:x}, JIT 0x{b.Run.R0:x}";
        if (a.Run.RedirectIfindex != b.Run.RedirectIfindex || a.Run.RedirectFlags != b.Run.RedirectFlags) return "redirect target differs";
        if (!a.Buffer.AsSpan().SequenceEqual(b.Buffer)) return "packet bytes differ";
        if (!a.Map.AsSpan().SequenceEqual(b.Map)) return "map contents differ";
        if (a.Mark != b.Mark || a.Priority != b.Priority || !a.Cb.AsSpan().SequenceEqual(b.Cb)) return "__sk_buff writes differ";
        if (a.Vlan != b.Vlan) return $"offloaded VLAN tag or packet extent: interpreter {a.Vlan}, JIT {b.Vlan}";
        return null;
    }
}
