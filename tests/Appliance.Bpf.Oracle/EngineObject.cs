using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Oracle;

/// <summary>The same <see cref="BpfObject"/> in the appliance's engine: live maps (one CPU slot by default, so per-CPU
/// values compare against the kernel's sum over CPUs; or the kernel's count, compared slot by slot), each program verified and loaded with the Linux
/// helper table, run on a frame with head- and tailroom and a context like the kernel test run's.</summary>
public sealed class EngineObject : IDisposable
{
    public const int Headroom = 128, Tailroom = 128;

    private readonly Dictionary<string, LoadedProgram> _programs = new();
    private readonly BpfVm _vm;

    /// <summary>VM settings that match the kernel's test run: the frame's device is loopback (ifindex 1, MTU
    /// 65536), and no other interface answers bpf_check_mtu.</summary>
    public static BpfVmOptions KernelLikeOptions { get; } = new() { InterfaceMtus = new LoopbackOnly() };

    private sealed class LoopbackOnly : IInterfaceMtus
    {
        public int MtuOf(uint ifindex) => ifindex == 1 ? 65536 : -1;
    }

    /// <summary>The object's programs on a VM of their own; <paramref name="jit"/> runs them as native code
    /// from the JIT (every program must then have compiled, callbacks included); <paramref name="fibTables"/> are the routing tables
    /// bpf_fib_lookup and bpf_redirect_neigh read; per-CPU maps get <paramref name="cpuCount"/> CPU slots and the VM
    /// runs as CPU <paramref name="processorId"/> (bpf_get_smp_processor_id's answer and the slot its per-CPU lookups use).</summary>
    public EngineObject(BpfObject obj, bool jit = false, Routing.IFibTables? fibTables = null, int cpuCount = 1, uint processorId = 0)
    {
        Object = obj;
        Maps = obj.Maps.Select(def => BpfMap.Create(def, cpuCount)).ToArray();
        MapOfMaps.BindInitialSlots(Maps);
        foreach (var p in LoadedProgram.LoadAll(obj, Maps, LinuxHelperTable.Instance))
        {
            if (jit && p.JitUnavailableReason is { } reason) throw new InvalidOperationException($"{p.Name}: the JIT did not compile it: {reason}");
            _programs[p.Name] = p;
        }
        _vm = new BpfVm(new BpfVmOptions { InterfaceMtus = KernelLikeOptions.InterfaceMtus, UseJit = jit, FibTables = fibTables, ProcessorId = processorId });
    }

    public BpfObject Object { get; }
    public BpfMap[] Maps { get; }

    public BpfMap Map(string name) => Maps.Single(m => m.Name == name);

    /// <summary>The engine that runs <paramref name="program"/>: "jit" or "interpreter".</summary>
    public string EngineOf(string program) => _programs[program].EngineName(_vm.Options.UseJit);

    /// <summary>Runs <paramref name="program"/> on a copy of <paramref name="frame"/> with the kernel test
    /// run's metadata (see <see cref="Run(LoadedProgram, ReadOnlySpan{byte}, byte[], BpfVm)"/>).</summary>
    public EngineRunResult Run(string program, ReadOnlySpan<byte> frame, byte[]? skb = null) => Run(_programs[program], frame, skb, _vm);

    /// <summary>Runs <paramref name="program"/> as BPF_PROG_TEST_RUN would: the frame with
    /// <see cref="Headroom"/> bytes before it and room after it up to the kernel's largest skb (so resizing
    /// helpers meet the kernel's limits, not the buffer's), mark, priority, ingress_ifindex, ifindex, cb[] and
    /// tstamp from <paramref name="skb"/> (default <see cref="KernelSkBuff.Create"/>), protocol = the frame's
    /// EtherType, pkt_type as eth_type_trans on loopback. The result carries the context in the layout the
    /// kernel's test run hands back.</summary>
    public static EngineRunResult Run(LoadedProgram program, ReadOnlySpan<byte> frame, byte[]? skb, BpfVm vm)
    {
        skb ??= KernelSkBuff.Create();
        var buffer = new byte[Headroom + Math.Max(frame.Length, MaxKernelFrame) + Tailroom];
        frame.CopyTo(buffer.AsSpan(Headroom));
        var packet = PacketContext.FromArray(buffer, Headroom, frame.Length);
        packet.Mark = KernelSkBuff.Read(skb, KernelSkBuff.Mark);
        packet.Priority = KernelSkBuff.Read(skb, KernelSkBuff.Priority);
        packet.IngressIfindex = KernelSkBuff.Read(skb, KernelSkBuff.IngressIfindex);
        packet.Ifindex = KernelSkBuff.Read(skb, KernelSkBuff.Ifindex);
        packet.Tstamp = KernelSkBuff.Read64(skb, KernelSkBuff.Tstamp);
        for (int i = 0; i < 5; i++) packet.Cb[i] = KernelSkBuff.Read(skb, KernelSkBuff.Cb + 4 * i);
        packet.Protocol = PacketContext.ProtocolOf(frame);
        packet.PacketType = KernelSkBuff.PacketType(frame);
        var result = vm.Run(program, ref packet);
        var cb = new uint[5];
        for (int i = 0; i < cb.Length; i++) cb[i] = packet.Cb[i];
        var after = KernelSkBuff.AfterRun(skb, packet.Mark, packet.Priority, packet.IngressIfindex, packet.Ifindex, packet.Tstamp, cb, (uint)frame.Length);
        return new EngineRunResult(result, packet.Data.ToArray(), packet.Mark, packet.Priority, cb, packet.VlanPresent, packet.VlanTci, after, packet);
    }

    /// <summary>The kernel's largest linear skb a helper may grow to (BPF_SKB_MAX_LEN on x86-64 and arm64).</summary>
    public const int MaxKernelFrame = PacketContext.MaxLength;

    /// <summary>Average ns per run over <paramref name="runs"/> runs (wall clock, and the process's CPU time,
    /// which leaves out time other processes took from this one), timed the way BPF_PROG_TEST_RUN with
    /// repeat times the kernel: the frame is copied once into a pinned buffer (head- and tailroom as in
    /// <see cref="Run"/>), one <see cref="PacketContext"/> over it is reused, and each run sees what the
    /// previous one left (bytes, length, metadata, VLAN tag), with no restore in between. The caller warms
    /// up first (tiered JIT). No per-run allocation or copy is timed.</summary>
    public EngineTiming Measure(string program, ReadOnlySpan<byte> frame, long runs)
    {
        var loaded = _programs[program];
        var buffer = GC.AllocateArray<byte>(Headroom + frame.Length + Tailroom, pinned: true);
        frame.CopyTo(buffer.AsSpan(Headroom));
        var packet = PacketContext.FromArray(buffer, Headroom, frame.Length);
        packet.Ifindex = 1;
        packet.Protocol = PacketContext.ProtocolOf(frame);
        BpfRunResult last = default;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (long i = 0; i < runs; i++) last = _vm.Run(loaded, ref packet);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return new EngineTiming(elapsed.TotalNanoseconds / runs, cpu.TotalNanoseconds / runs, last, packet.Data.ToArray(), allocated);
    }

    /// <summary>Every (key, value) of a map as user space sees it.</summary>
    public List<(byte[] Key, byte[] Value)> Dump(string name)
    {
        var map = Map(name);
        var result = new List<(byte[], byte[])>();
        if (map is QueueStackMap queue)
        {
            for (var value = new byte[map.ValueSize]; queue.Take(value, remove: true) == 0; value = new byte[map.ValueSize])
                result.Add(([], value));
            return result;
        }
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (map.TryGetNextKey(key, next))
        {
            key = (byte[])next.Clone();
            var value = new byte[map.UserValueSize];
            if (map.TryLookupFromUser(key, value)) result.Add((key, value));
        }
        return result;
    }

    public void Dispose() => _vm.Dispose();
}

/// <summary>What one engine run gave back.</summary>
public sealed record EngineRunResult(BpfRunResult Run, byte[] Frame, uint Mark, uint Priority, uint[] Cb, bool VlanPresent, ushort VlanTci,
    byte[] SkBuff, PacketContext Packet);
