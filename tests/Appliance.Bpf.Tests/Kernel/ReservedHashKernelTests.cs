using System.Buffers.Binary;
using Appliance.Bpf.Assembly;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Maps;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>A hash and a per-CPU hash of 2^24 entries with BPF_F_NO_PREALLOC (the shape of netobserv's flow maps),
/// loaded in the kernel and in the engine (interpreter and JIT, whose lookups walk the reserved index inline):
/// programs' updates, lookups (with a write through the value) and deletes return what the kernel's return, user
/// space's updates, lookups and deletes (what `maps set/get/dump` call) answer as the kernel's syscalls, and the
/// maps end with the kernel's contents — while the process's memory grows only with the keys held.</summary>
[Collection(KernelCollection.Name)]
public sealed class ReservedHashKernelTests(ITestOutputHelper output)
{
    private static readonly BpfMapDefinition[] Maps =
    [
        new("flows", BpfMapType.Hash, 16, 32, 1 << 24, BpfMapFlags.NoPrealloc),
        new("counts", BpfMapType.PercpuHash, 16, 32, 1 << 24, BpfMapFlags.NoPrealloc),
    ];

    /// <summary>The key {mark, priority, 7 (u64)} at r10-16 and r2 = its address; r6 = ctx, r7 = mark, r8 = priority.</summary>
    private const string Key = """
        mov %r6, %r1
        ldxw %r7, [%r6+8]
        stxw [%r10-16], %r7
        ldxw %r8, [%r6+32]
        stxw [%r10-12], %r8
        stdw [%r10-8], 7
        mov %r2, %r10
        add %r2, -16
        """;

    /// <summary>update(map, key, {mark, priority, 0, 0}, BPF_ANY).</summary>
    private static string Update(int map) => $"""
        {Key}
        stxdw [%r10-48], %r7
        stxdw [%r10-40], %r8
        stdw [%r10-32], 0
        stdw [%r10-24], 0
        lddw %r1, map[{map}]
        mov %r3, %r10
        add %r3, -48
        mov %r4, 0
        call 2
        exit
        """;

    /// <summary>lookup(map, key): 65535 when absent; else value[16..24] += 1 in place and returns that * 1000 + value[8..16].</summary>
    private static string Lookup(int map) => $"""
        {Key}
        lddw %r1, map[{map}]
        call 1
        jeq %r0, 0, +8
        ldxdw %r1, [%r0+16]
        add %r1, 1
        stxdw [%r0+16], %r1
        ldxdw %r2, [%r0+8]
        mul %r1, 1000
        add %r1, %r2
        mov %r0, %r1
        exit
        mov %r0, 65535
        exit
        """;

    private static string Delete(int map) => $"""
        {Key}
        lddw %r1, map[{map}]
        call 3
        exit
        """;

    [PrivilegedFact]
    public void ProgramsAndUserSpaceAgreeWithTheKernelAndMemoryFollowsTheKeys() => OneCpu.Run(cpu =>
    {
        var programs = Maps.SelectMany((m, i) => new[]
        {
            new BpfProgramImage($"update_{m.Name}", "tc", BpfAssembler.Assemble(Update(i))),
            new BpfProgramImage($"lookup_{m.Name}", "tc", BpfAssembler.Assemble(Lookup(i))),
            new BpfProgramImage($"delete_{m.Name}", "tc", BpfAssembler.Assemble(Delete(i))),
        }).ToArray();
        var obj = new BpfObject("reserved", programs, Maps, "GPL");
        using var kernel = KernelObject.Load(obj);
        ProcessMemory.Settle();
        long before = ProcessMemory.Status("VmRSS");
        using var interpreter = new EngineObject(obj, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
        using var jit = new EngineObject(obj, jit: true, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
        Assert.Equal("jit", jit.EngineOf("lookup_flows"));
        var engines = new[] { ("interpreter", interpreter), ("JIT", jit) };

        var mismatches = new List<string>();
        int runs = 0;
        void Run(string program, uint mark, uint priority)
        {
            var skb = KernelSkBuff.Create(mark: mark, priority: priority);
            uint expected = kernel.Run(program, PacketBuilder.Arp(), skb).Retval;
            runs++;
            foreach (var (name, engine) in engines)
            {
                var e = engine.Run(program, PacketBuilder.Arp(), skb);
                if (e.Run.Faulted || (uint)e.Run.R0 != expected)
                    mismatches.Add($"{program}({mark}, {priority}) {name}: {(e.Run.Faulted ? $"faulted ({e.Run.Fault})" : $"{(int)e.Run.R0}")}, the kernel's {(int)expected}");
            }
        }
        foreach (var map in Maps)
        {
            for (uint k = 1; k <= 300; k++) Run($"update_{map.Name}", k, k * 3);
            for (uint k = 1; k <= 300; k += 7) Run($"lookup_{map.Name}", k, k * 3);   // present: counts a use in place
            Run($"lookup_{map.Name}", 5000, 1);                                        // absent
            for (uint k = 2; k <= 300; k += 3) Run($"delete_{map.Name}", k, k * 3);
            Run($"delete_{map.Name}", 2, 6);                                           // gone: -ENOENT
            for (uint k = 1; k <= 300; k += 5) Run($"lookup_{map.Name}", k, k * 3);
            for (uint k = 301; k <= 400; k++) Run($"update_{map.Name}", k, k);         // into the freed slots
            Run($"lookup_{map.Name}", 1, 3);
        }
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));

        foreach (var map in Maps)
        {
            int size = kernel.UserValueSize(map.Name);
            for (uint k = 1000; k < 1100; k++)
            {
                var key = UserKey(k);
                var value = new byte[size];
                BinaryPrimitives.WriteUInt64LittleEndian(value, k * 11);
                ulong flags = k % 3 == 0 ? BpfUpdateFlags.NoExist : BpfUpdateFlags.Any;
                int expected = -BpfSyscall.TryUpdateElem(kernel.MapFd(map.Name), key, value, flags);
                foreach (var (name, engine) in engines)
                    Assert.Equal(expected, engine.Map(map.Name).UpdateFromUser(key, value, flags));
            }
            foreach (uint k in new uint[] { 1000, 1003, 1099, 77, 2000 })
            {
                byte[]? expected = kernel.Lookup(map.Name, UserKey(k));
                foreach (var (name, engine) in engines)
                {
                    var value = new byte[engine.Map(map.Name).UserValueSize];
                    bool found = engine.Map(map.Name).TryLookupFromUser(UserKey(k), value);
                    Assert.Equal(expected is not null, found);
                    if (found) Assert.Equal(Convert.ToHexString(expected!), Convert.ToHexString(value));
                }
            }
            foreach (uint k in new uint[] { 1000, 1001, 1001, 4242 })
            {
                int expected = BpfSyscall.DeleteElem(kernel.MapFd(map.Name), UserKey(k)) ? 0 : -Errno.ENOENT;
                foreach (var (name, engine) in engines)
                    Assert.Equal(expected, engine.Map(map.Name).Delete(UserKey(k)));
            }
            string contents = MapUpdateFlagsTests.Contents(kernel.Dump(map.Name));
            Assert.Equal(contents, MapUpdateFlagsTests.Contents(interpreter.Dump(map.Name)));
            Assert.Equal(contents, MapUpdateFlagsTests.Contents(jit.Dump(map.Name)));
            Assert.Equal(kernel.Dump(map.Name).Count, ((HashTableMap)jit.Map(map.Name)).Count);
        }

        ProcessMemory.Settle();
        long grown = ProcessMemory.Status("VmRSS") - before;
        output.WriteLine($"{runs} runs on 2 engines of 2 maps of 2^24 entries; RSS grew {grown} kB");
        // Two engines with two maps each, a few hundred keys: their slots and pages of bucket heads, and the engines'
        // own (VM, compiled code). Preallocated, each map would be over 1 GiB (refused), and the per-CPU one × CPUs.
        Assert.True(grown < 64 << 10, $"RSS grew {grown} kB");
    });

    /// <summary>test:flow_table, a tc flow meter in the shape of netobserv's (C, built with clang): a hash and a per-CPU
    /// hash of 2^24 flows with BPF_F_NO_PREALLOC. The kernel loads it, and so does the engine, which meters UDP and TCP
    /// flows as the kernel does (the verdicts that mark new flows, and both tables' contents afterwards).</summary>
    [PrivilegedFact]
    public void AFlowMeterWithTablesOf16MFlowsLoadsAndMetersAsTheKernel() => OneCpu.Run(cpu =>
    {
        var obj = Elf.TestObjects.LoadTestProgram("flow_table");
        foreach (var map in obj.Maps.Where(m => m.Name.StartsWith("flows", StringComparison.Ordinal)))
        {
            Assert.Equal(1 << 24, map.MaxEntries);
            Assert.Equal(BpfMapFlags.NoPrealloc, map.Flags);
        }
        using var kernel = KernelObject.Load(obj);
        using var interpreter = new EngineObject(obj, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
        using var jit = new EngineObject(obj, jit: true, cpuCount: KernelObject.PossibleCpus, processorId: (uint)cpu);
        var verdicts = new HashSet<uint>();
        for (int i = 0; i < 240; i++)
        {
            byte proto = (byte)(i % 3 == 0 ? 6 : 17);
            var frame = PacketBuilder.Ipv4(proto, [10, 0, 0, (byte)(i % 40)], [10, 0, 1, 1], (ushort)(1000 + i % 6), 53, i % 50);
            uint expected = kernel.Run("meter_flow", frame).Retval;
            verdicts.Add(expected);
            Assert.Equal(expected, (uint)interpreter.Run("meter_flow", frame).Run.R0);
            Assert.Equal(expected, (uint)jit.Run("meter_flow", frame).Run.R0);
        }
        Assert.Equal(new HashSet<uint> { 1, unchecked((uint)-1) }, verdicts); // new flows and flows seen before
        foreach (var name in new[] { "flows", "flows_percpu" })
        {
            string contents = MapUpdateFlagsTests.Contents(kernel.Dump(name));
            Assert.Equal(contents, MapUpdateFlagsTests.Contents(interpreter.Dump(name)));
            Assert.Equal(contents, MapUpdateFlagsTests.Contents(jit.Dump(name)));
        }
        Assert.Equal(kernel.Dump("flows").Count, ((HashTableMap)jit.Map("flows")).Count);
    });

    private static byte[] UserKey(uint k)
    {
        var key = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(key, k);
        BinaryPrimitives.WriteUInt32LittleEndian(key.AsSpan(4), k + 1);
        BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(8), 7);
        return key;
    }
}
