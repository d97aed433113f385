using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;
using Appliance.Bpf.Tests.Elf;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Each example program runs on a few hundred generated frames (IPv4/IPv6 TCP/UDP, VLAN, ARP,
/// ICMP, fragments, IPv4 options, bad IHL, odd lengths, truncated) in the kernel (BPF_PROG_TEST_RUN,
/// SCHED_CLS) and in the appliance's engine, from the same parsed object and the same map contents. Both
/// must give the same verdict, the same output bytes, the same mark/priority, and the same map contents
/// afterwards.</summary>
[Collection(KernelCollection.Name)]
public class DifferentialTests(ITestOutputHelper output)
{
    private const int FramesPerExample = 300;

    /// <summary>Every example program (an object may hold several) on each engine: "interpreter" and "jit".</summary>
    public static TheoryData<string, string, string> Examples()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var s in DifferentialScenario.All)
            foreach (string engine in Engines) data.Add(s.Example, s.Program, engine);
        return data;
    }

    public static TheoryData<string, string, string> TestProgramScenarios()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var s in DifferentialScenario.TestPrograms)
            foreach (string engine in Engines) data.Add(s.Example, s.Program, engine);
        return data;
    }

    private static readonly string[] Engines = ["interpreter", "jit"];

    [PrivilegedTheory]
    [MemberData(nameof(Examples))]
    public void KernelAndEngineAgreeOnEveryFrame(string example, string program, string engine) =>
        Compare(Example(example, program), requireVariety: true, engine);

    private static DifferentialScenario Example(string example, string program) =>
        DifferentialScenario.All.Single(s => s.Example == example && s.Program == program);

    /// <summary>The same examples built with -mcpu=v1 (no JMP32/ALU32, 64-bit immediates via lddw) and v2.</summary>
    [PrivilegedTheory]
    [MemberData(nameof(Examples))]
    public void KernelAndEngineAgreeOnOlderInstructionSets(string example, string program, string engine)
    {
        var scenario = Example(example, program);
        Compare(scenario with { Example = example + "@v1" }, requireVariety: true, engine);
        Compare(scenario with { Example = example + "@v2" }, requireVariety: true, engine);
    }

    /// <summary>The same comparison for the test programs: bpf-to-bpf calls and globals, __sk_buff field
    /// reads and writes, and the packet helpers (bytes, checksums, resizing, VLAN).</summary>
    [PrivilegedTheory]
    [MemberData(nameof(TestProgramScenarios))]
    public void KernelAndEngineAgreeOnTestPrograms(string testObject, string program, string engine) =>
        Compare(DifferentialScenario.TestPrograms.Single(s => s.Example == testObject && s.Program == program), requireVariety: false, engine);

    public static TheoryData<string, string, string> CorpusScenarios()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var s in DifferentialScenario.Corpus)
            foreach (var cpu in TestObjects.CorpusCpus)
                foreach (string engine in Engines) data.Add(s.Example, cpu, engine);
        return data;
    }

    /// <summary>The corpus, each program built at -mcpu=v2 and v3, on each engine: same verdicts, bytes,
    /// context and maps as the kernel.</summary>
    [PrivilegedTheory]
    [MemberData(nameof(CorpusScenarios))]
    public void KernelAndEngineAgreeOnTheCorpus(string program, string cpu, string engine)
    {
        var scenario = DifferentialScenario.Corpus.Single(s => s.Example == program);
        Compare(scenario with { Example = $"corpus:{program}@{cpu}" }, requireVariety: true, engine);
    }

    /// <summary>On one CPU (see <see cref="OneCpu"/>): percpu_slots overwrites its CPU's slot of a per-CPU hash.</summary>
    private void Compare(DifferentialScenario scenario, bool requireVariety, string engineName) =>
        OneCpu.Run(() => CompareOnOneCpu(scenario, requireVariety, engineName));

    private void CompareOnOneCpu(DifferentialScenario scenario, bool requireVariety, string engineName)
    {
        string example = scenario.Example;
        var obj = KernelLoadTests.LoadAny(example);
        using var kernel = scenario.Libbpf ? KernelObject.LoadWithLibbpf(obj) : KernelObject.Load(obj);
        var refused = scenario.RefusedByEngine ?? [];
        foreach (var name in refused)
            Assert.Throws<Bpf.Verifier.BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(p => p.Name == name),
                [.. obj.Maps.Select(def => BpfMap.Create(def))], Bpf.Helpers.LinuxHelperTable.Instance));
        using var engine = new EngineObject(refused.Length == 0 ? obj
            : new Bpf.Objects.BpfObject(obj.Path, [.. obj.Programs.Where(p => !refused.Contains(p.Name))], obj.Maps, obj.License), jit: engineName == "jit");
        Assert.Equal(engineName, engine.EngineOf(scenario.Program)); // callbacks (loop_scan) compiled too
        foreach (var (map, key, value) in scenario.Entries)
        {
            kernel.Update(map, key, value);
            Assert.Equal(0, engine.Map(map).UpdateFromUser(key, value, 0));
        }
        foreach (var (map, slot, program) in scenario.TailCalls ?? [])
        {
            var index = BitConverter.GetBytes(obj.Programs.ToList().FindIndex(p => p.Name == program));
            kernel.Update(map, BitConverter.GetBytes(slot), index);
            Assert.Equal(0, engine.Map(map).UpdateFromUser(BitConverter.GetBytes(slot), index, 0));
        }

        var mismatches = new List<string>();
        var verdicts = new Dictionary<int, int>();
        int rewritten = 0, contextWritten = 0;
        foreach (var (name, frame) in PacketCorpus.Generate(FramesPerExample, seed: example.Length * 7919))
        {
            KernelRunResult k;
            try
            {
                k = kernel.Run(scenario.Program, frame);
            }
            catch (Interop.PlatformException ex)
            {
                throw new InvalidOperationException($"frame {name} ({Hex(frame)}): {ex.Message}", ex);
            }
            var e = engine.Run(scenario.Program, frame);
            verdicts[(int)k.Retval] = verdicts.GetValueOrDefault((int)k.Retval) + 1;
            if (!k.Frame.AsSpan().SequenceEqual(frame)) rewritten++;
            if (!k.SkBuff.AsSpan(0, KernelSkBuff.WireLen).SequenceEqual(KernelSkBuff.Create().AsSpan(0, KernelSkBuff.WireLen))) contextWritten++;
            if (e.Run.Faulted)
                mismatches.Add($"{name}: engine faulted ({e.Run.Fault} at instruction {e.Run.FaultInstruction}); kernel returned {(int)k.Retval}");
            else if ((uint)e.Run.R0 != k.Retval)
                mismatches.Add($"{name}: verdict kernel {(int)k.Retval}, engine {e.Run.Verdict}");
            else if (!k.Frame.AsSpan().SequenceEqual(e.Frame))
                mismatches.Add($"{name}: output frame differs at byte {FirstDifference(k.Frame, e.Frame)} (kernel {k.Frame.Length} bytes, engine {e.Frame.Length})");
            else if (!k.SkBuff.AsSpan().SequenceEqual(e.SkBuff))
                mismatches.Add($"{name}: the context after the run differs (mark, priority, cb[], tstamp …):\n  kernel {Hex(k.SkBuff)}\n  engine {Hex(e.SkBuff)}");
        }
        output.WriteLine($"{example}/{scenario.Program} ({engineName}): {FramesPerExample} frames, kernel verdicts " +
            (verdicts.Count <= 8 ? string.Join(", ", verdicts.OrderBy(v => v.Key).Select(v => $"{v.Key}×{v.Value}")) : $"{verdicts.Count} distinct values")
            + $"; {rewritten} frames changed; {contextWritten} contexts written");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {FramesPerExample} frames differ:\n" + string.Join('\n', mismatches.Take(20)));

        int mapEntries = 0;
        foreach (var def in obj.Maps.Where(m => m.Type is not (BpfMapType.ProgArray or BpfMapType.RingBuf or BpfMapType.PerfEventArray
            or BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps) && BpfMapTypeNames.WhyUnsupported(m.Type) is null))
            mapEntries += AssertSameContents(def, kernel, engine);
        Assert.True(!requireVariety || verdicts.Count > 1 || rewritten > 0 || contextWritten > 0 || mapEntries > scenario.Entries.Length
            || scenario.Program is "count_tenant" or "vlan_tag",
            $"{example}: every frame got the same verdict, and no frame, context or map was changed; the corpus does not exercise the program");
    }

    /// <summary>Asserts both sides hold the same entries; returns how many entries hold a non-zero value.</summary>
    private static int AssertSameContents(BpfMapDefinition def, KernelObject kernel, EngineObject engine)
    {
        var expected = kernel.Dump(def.Name)
            .Select(kv => (Hex(kv.Key), Hex(DifferentialScenario.IsPerCpu(def.Type)
                ? DifferentialScenario.SumPerCpu(kv.Value, def.ValueSize, KernelObject.PossibleCpus) : kv.Value)))
            .ToList();
        var actual = engine.Dump(def.Name).Select(kv => (Hex(kv.Key), Hex(kv.Value))).ToList();
        if (def.Type is not (BpfMapType.Queue or BpfMapType.Stack)) // those compare in pop order
        {
            expected = [.. expected.OrderBy(kv => kv.Item1)];
            actual = [.. actual.OrderBy(kv => kv.Item1)];
        }
        Assert.True(expected.SequenceEqual(actual),
            $"map '{def.Name}' differs.\nkernel: {string.Join(' ', expected)}\nengine: {string.Join(' ', actual)}");
        return expected.Count(kv => kv.Item2.Any(c => c != '0'));
    }

    private static string Hex(byte[] b) => Convert.ToHexString(b);

    private static int FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return n;
    }
}
