using System.Text;
using System.Text.RegularExpressions;
using Appliance.Bpf.Assembly;
using Appliance.Bpf.Conformance;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Interop;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Random tc programs (<see cref="RandomPrograms"/> in its kernel-verifiable mode) loaded into the kernel
/// (BPF_PROG_LOAD, SCHED_CLS, license GPL) and into the appliance's verifier. Where both accept, each runs on a few
/// frames with the same starting map contents and context in the kernel (BPF_PROG_TEST_RUN) and in the interpreter
/// and the JIT (<see cref="EngineObject"/>): the verdict (r0's low 32 bits, what the test run returns), the frame
/// afterwards, the context the test run hands back (mark, priority, cb[], tstamp …) and, after the last frame, the
/// contents of the maps must be the same; a fault of ours where the kernel's verifier proved the program
/// safe is a difference too. Everything runs on one CPU (<see cref="OneCpu"/>: BPF_PROG_TEST_RUN runs on the caller's),
/// and the engines' VMs are that CPU with the kernel's count of CPU slots, so per-CPU values compare slot by slot and
/// bpf_get_smp_processor_id agrees. A group's other programs (<see cref="RandomPrograms.NextGroup"/>) are loaded with
/// it and put in the prog array's slots 0..2 on all three.</summary>
internal static class RandomKernelDifferential
{
    public sealed class Report
    {
        public int Generated, BothRefused, OursOnly, KernelOnly, BothAccepted, Agreed, Frames;

        /// <summary>Programs both accepted whose runs changed the packet, the context, or a map.</summary>
        public int WrotePacket, WroteContext, WroteMaps;

        /// <summary>Programs both accepted whose runs changed a per-CPU map, an LRU map; in which a run ended in the tail-call
        /// chain stopped by the kernel's limit (<see cref="RandomPrograms.ChainVerdict"/>).</summary>
        public int WrotePerCpu, WroteLru, ChainLimit;

        /// <summary>Programs (groups) both accepted by each shape of <see cref="RandomPrograms.Shapes"/> they have.</summary>
        public Dictionary<string, int> Shapes { get; } = [];

        /// <summary>Kernel accepts, we refuse (our verifier stricter than the kernel's): our reason and the program.</summary>
        public List<string> TooStrict { get; } = [];

        /// <summary>Both accept and some run differs: what differs and the program.</summary>
        public List<string> Differences { get; } = [];

        /// <summary>We accept, the kernel refuses: the kernel's reason (numbers as N) and how often, and the first programs.</summary>
        public Dictionary<string, int> KernelReasons { get; } = [];
        public List<string> KernelRefused { get; } = [];

        public override string ToString()
        {
            var text = new StringBuilder();
            text.Append($"{Generated} programs: kernel accepts {BothAccepted + KernelOnly}, ours {BothAccepted + OursOnly}; ")
                .Append($"both {BothAccepted} ({Agreed} agree on all {Frames} frames run, {Differences.Count} differ; {WrotePacket} wrote the packet, ")
                .Append($"{WroteContext} the context, {WroteMaps} a map, {WrotePerCpu} a per-CPU map, {WroteLru} an LRU map, {ChainLimit} ran into the tail-call limit), ")
                .Append($"only the kernel {KernelOnly}, only ours {OursOnly}, neither {BothRefused}")
                .Append("\nshapes: ").AppendJoin(", ", Shapes.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}"));
            if (KernelReasons.Count > 0)
                text.Append("\nthe kernel's reasons where only ours accepts:\n  ")
                    .AppendJoin("\n  ", KernelReasons.OrderByDescending(r => r.Value).Take(12).Select(r => $"{r.Value}× {r.Key}"));
            return text.ToString();
        }
    }

    /// <summary>Runs <paramref name="programs"/> programs from <paramref name="seed"/>, <paramref name="frames"/>
    /// (+ one that is not IP) frames each; keeps the first <paramref name="keep"/> problems of each kind in full. <paramref name="only"/> ≥ 0:
    /// only that program of the stream is loaded and run (to look at one again).</summary>
    public static Report Run(int programs, int seed, int frames = 3, int keep = 5, int only = -1)
    {
        Report? report = null;
        OneCpu.Run(cpu => report = Run(programs, seed, frames, keep, only, cpu));
        return report!;
    }

    private static Report Run(int programs, int seed, int frames, int keep, int only, int cpu)
    {
        var report = new Report();
        var generator = new RandomPrograms(seed, kernelVerifiable: true);
        for (int p = 0; p < programs; p++)
        {
            var group = generator.NextGroup(length: 10 + p % 60);
            if (only >= 0 && p != only) continue;
            var images = group.Select((text, i) => new BpfProgramImage(i == 0 ? "random" : $"tail{i - 1}", "tc", BpfAssembler.Assemble(text))).ToList();
            var obj = new BpfObject("random", images, RandomPrograms.KernelMaps, "GPL");
            report.Generated++;
            KernelObject? kernel = null;
            EngineObject? interpreter = null, jit = null;
            try
            {
                string? kernelRefusal = null, ourRefusal = null;
                try
                {
                    kernel = KernelObject.Load(obj);
                }
                catch (PlatformException e)
                {
                    kernelRefusal = e.Message;
                }
                try
                {
                    interpreter = new EngineObject(obj, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
                    jit = new EngineObject(obj, jit: true, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
                }
                catch (BpfVerifierException e)
                {
                    ourRefusal = e.Message;
                }
                catch (InvalidOperationException e) // the JIT did not compile a program the verifier accepted
                {
                    if (kernel is not null) report.BothAccepted++;
                    else report.OursOnly++;
                    report.Differences.Add(Describe(p, $"the JIT: {e.Message}", images, report.Differences.Count < keep));
                    continue;
                }
                switch (kernelRefusal, ourRefusal)
                {
                    case (null, null):
                        report.BothAccepted++;
                        foreach (var shape in generator.Shapes) report.Shapes[shape] = report.Shapes.GetValueOrDefault(shape) + 1;
                        var difference = Compare(kernel!, interpreter!, jit!, seed * 7919 + p, frames, report);
                        if (difference is null) report.Agreed++;
                        else report.Differences.Add(Describe(p, difference, images, report.Differences.Count < keep));
                        break;
                    case (null, _):
                        report.KernelOnly++;
                        report.TooStrict.Add(Describe(p, $"ours refuses: {ourRefusal}", images, report.TooStrict.Count < keep));
                        break;
                    case (_, null):
                        report.OursOnly++;
                        string reason = KernelReason(kernelRefusal);
                        report.KernelReasons[reason] = report.KernelReasons.GetValueOrDefault(reason) + 1;
                        if (report.KernelRefused.Count < keep) report.KernelRefused.Add(Describe(p, $"the kernel refuses: {reason}", images, true));
                        break;
                    default:
                        report.BothRefused++;
                        break;
                }
            }
            finally
            {
                kernel?.Dispose();
                interpreter?.Dispose();
                jit?.Dispose();
            }
        }
        return report;
    }

    /// <summary>The same map contents on all three, then <paramref name="frames"/> frames (and one that is not IP) with a context of random
    /// mark, priority and cb[]; the first difference, or null.</summary>
    private static string? Compare(KernelObject kernel, EngineObject interpreter, EngineObject jit, int seed, int frames, Report report)
    {
        var random = new Random(seed);
        var content = new byte[4 * 32];
        random.NextBytes(content);
        var initial = RandomPrograms.KernelInitialEntries(content, KernelObject.PossibleCpus).ToList();
        // The prog array's slot i holds the group's program i + 1 (by its index in the object, as both sides take it).
        for (int program = 1; program < kernel.Object.Programs.Count; program++)
            initial.Add((RandomPrograms.KernelMaps.ToList().FindIndex(m => m.Type == BpfMapType.ProgArray), BitConverter.GetBytes(program - 1), BitConverter.GetBytes(program)));
        foreach (var (index, key, value) in initial)
        {
            string name = RandomPrograms.KernelMaps[index].Name;
            kernel.Update(name, key, value);
            foreach (var engine in new[] { interpreter, jit })
                if (engine.Map(name).UpdateFromUser(key, value, 0) != 0) throw new InvalidOperationException($"map '{name}': the engine refused an initial entry");
        }
        bool wrotePacket = false, wroteContext = false, chainLimit = false;
        foreach (var (name, frame) in PacketCorpus.Generate(frames, seed).Append(OddFrame(random)))
        {
            uint[] cb = [(uint)random.Next(), (uint)random.Next(), (uint)random.Next(), (uint)random.Next(), (uint)random.Next()];
            var skb = KernelSkBuff.Create(mark: (uint)random.Next(), priority: (uint)random.Next(), cb: cb);
            var k = kernel.Run("random", frame, skb);
            report.Frames++;
            wrotePacket |= !k.Frame.AsSpan().SequenceEqual(frame);
            wroteContext |= !k.SkBuff.AsSpan().SequenceEqual(skb);
            chainLimit |= k.Retval == RandomPrograms.ChainVerdict;
            foreach (var (engineName, engine) in new[] { ("interpreter", interpreter), ("JIT", jit) })
            {
                var e = engine.Run("random", frame, skb);
                string where = $"frame {name}, {engineName}";
                if (e.Run.Faulted)
                    return $"{where}: faulted ({e.Run.Fault} at instruction {e.Run.FaultInstruction}); the kernel returned 0x{k.Retval:x}";
                if ((uint)e.Run.R0 != k.Retval) return $"{where}: r0 0x{(uint)e.Run.R0:x}, the kernel's 0x{k.Retval:x}";
                if (!k.Frame.AsSpan().SequenceEqual(e.Frame))
                    return $"{where}: the frame afterwards differs\n  kernel {Convert.ToHexString(k.Frame)}\n  ours   {Convert.ToHexString(e.Frame)}";
                if (!k.SkBuff.AsSpan().SequenceEqual(e.SkBuff))
                    return $"{where}: the context afterwards differs\n  kernel {Convert.ToHexString(k.SkBuff)}\n  ours   {Convert.ToHexString(e.SkBuff)}";
            }
        }
        bool wroteMaps = false, wrotePerCpu = false, wroteLru = false;
        foreach (var def in RandomPrograms.KernelMaps.Where(m => m.Type != BpfMapType.ProgArray))
        {
            // Per-CPU values whole: every CPU's slot (the runs wrote the pinned CPU's, and other CPUs' through bpf_map_lookup_percpu_elem).
            var expected = Dump(kernel.Dump(def.Name));
            foreach (var (engineName, engine) in new[] { ("interpreter", interpreter), ("JIT", jit) })
                if (Dump(engine.Dump(def.Name)) is var actual && actual != expected)
                    return $"map '{def.Name}' afterwards ({engineName}):\n  kernel {expected}\n  ours   {actual}";
            bool wrote = expected != Dump(initial.Where(e => RandomPrograms.KernelMaps[e.Map] == def).Select(e => (e.Key, e.Value)).ToList());
            wroteMaps |= wrote;
            wrotePerCpu |= wrote && DifferentialScenario.IsPerCpu(def.Type);
            wroteLru |= wrote && def.Type is BpfMapType.LruHash or BpfMapType.LruPercpuHash;
        }
        if (wrotePacket) report.WrotePacket++;
        if (wroteContext) report.WroteContext++;
        if (wroteMaps) report.WroteMaps++;
        if (wrotePerCpu) report.WrotePerCpu++;
        if (wroteLru) report.WroteLru++;
        if (chainLimit) report.ChainLimit++;
        return null;
    }

    /// <summary>A frame of random bytes that is not IP: an 802.3 length in the type field (LLC, or raw 802.3 with a payload
    /// starting 0xFFFF: skb->protocol 0x0004 or 0x0001), LLDP or ARP; 14 to 90 bytes, any destination (unicast, multicast, broadcast).</summary>
    private static (string, byte[]) OddFrame(Random random)
    {
        var frame = new byte[random.Next(14, 91)];
        random.NextBytes(frame);
        int kind = random.Next(4);
        ushort type = kind switch { 0 or 1 => (ushort)random.Next(0, 0x600), 2 => 0x88cc, _ => 0x0806 };
        frame[12] = (byte)(type >> 8);
        frame[13] = (byte)type;
        if (kind == 1 && frame.Length >= 16) frame[14] = frame[15] = 0xff;
        if (random.Next(8) == 0) frame.AsSpan(0, 6).Fill(0xff);
        return ($"odd:{type:x4}/{frame.Length}", frame);
    }

    /// <summary>A map's entries sorted by key, as text (the kernel's hash iteration order is its own).</summary>
    private static string Dump(List<(byte[] Key, byte[] Value)> entries) =>
        string.Join(' ', entries.Select(e => $"{Convert.ToHexString(e.Key)}={Convert.ToHexString(e.Value)}").Order(StringComparer.Ordinal));

    /// <summary>The line of the kernel's log that says why, numbers replaced by N (so reasons group).</summary>
    private static string KernelReason(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = lines.LastOrDefault(l => !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal)
            && !l.StartsWith("stack depth", StringComparison.Ordinal)) ?? message;
        return Regex.Replace(line, "[0-9]+", "N");
    }

    private static string Describe(int program, string what, IReadOnlyList<BpfProgramImage> images, bool withProgram)
    {
        if (!withProgram) return $"program {program}: {what}";
        var text = new StringBuilder($"program {program}: {what}\n");
        foreach (var image in images)
        {
            if (images.Count > 1) text.Append($" {image.Name}:\n");
            var insns = image.Instructions;
            for (int i = 0; i < insns.Length; i++)
            {
                text.Append($"  {i,4}: {BpfDisassembler.Disassemble(insns, i)}\n");
                if (BpfInstruction.Decode(insns[i]).IsWide) i++;
            }
        }
        return text.ToString();
    }
}
