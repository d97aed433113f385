using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Clang-built programs the kernel verifier refuses are refused by ours at load too, each with a reason
/// that says what the kernel's says: the same linked instructions and maps are loaded into the kernel
/// (BPF_PROG_LOAD, SCHED_CLS), whose log must hold the kernel's words, and into the engine.</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelRefusalTests
{
    [PrivilegedTheory]
    [InlineData("void_result", "reads_void_result", "R0 !read_ok",
        "r0 is read but no path to here writes it: r0 is the result of the static function called at instruction 2, which returns no value")]
    [InlineData("percpu_plain_map", "percpu_on_plain", "cannot pass map_type 2 into func bpf_map_lookup_percpu_elem#195",
        "bpf_map_lookup_percpu_elem: map 'plain' (array) cannot be passed to it: it takes a per-CPU map")]
    [InlineData("call_limits", "nine_frames", "the call stack of 9 frames is too deep",
        "the call stack of 9 frames is too deep (the entry → instruction")]
    [InlineData("call_limits", "stack_528", "combined stack size of 3 calls is 528. Too large",
        "the combined stack of 3 calls is 528 bytes (the entry → instruction")]
    [InlineData("map_access_flags", "write_ro_value", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: a store of 8 bytes at offset 0 of the 8-byte value of map 'ro', which is read-only to programs (BPF_F_RDONLY_PROG)")]
    [InlineData("map_access_flags", "add_ro_value", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: an atomic of 8 bytes at offset 0 of the 8-byte value of map 'ro', which is read-only to programs")]
    [InlineData("map_access_flags", "update_ro", "write into map forbidden",
        "bpf_map_update_elem: map 'ro' (array) is read-only to programs (BPF_F_RDONLY_PROG), and bpf_map_update_elem changes it")]
    [InlineData("map_access_flags", "delete_ro_hash", "write into map forbidden",
        "bpf_map_delete_elem: map 'ro_hash' (hash) is read-only to programs (BPF_F_RDONLY_PROG)")]
    [InlineData("map_access_flags", "push_ro_queue", "write into map forbidden",
        "bpf_map_push_elem: map 'ro_queue' (queue) is read-only to programs (BPF_F_RDONLY_PROG)")]
    [InlineData("map_access_flags", "pop_ro_queue", "write into map forbidden",
        "bpf_map_pop_elem: map 'ro_queue' (queue) is read-only to programs (BPF_F_RDONLY_PROG)")]
    [InlineData("map_access_flags", "read_wo_value", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: a load of 8 bytes at offset 0 of the 8-byte value of map 'wo', which is write-only to programs (BPF_F_WRONLY_PROG)")]
    [InlineData("map_access_flags", "add_wo_value", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: an atomic of 8 bytes at offset 0 of the 8-byte value of map 'wo', which is write-only to programs (BPF_F_WRONLY_PROG)")]
    [InlineData("map_access_flags", "load_into_ro", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: bpf_skb_load_bytes writes 8 bytes through r3 at offset 0 of the 8-byte value of map 'ro', which is read-only to programs (BPF_F_RDONLY_PROG)")]
    [InlineData("map_access_flags", "load_relative_into_ro", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: bpf_skb_load_bytes_relative writes 8 bytes through r3 at offset 0 of the 8-byte value of map 'ro'")]
    [InlineData("map_access_flags", "load_some_into_ro", "write into map forbidden, value_size=64 off=0 size=31",
        "write into map forbidden: bpf_skb_load_bytes writes up to 31 bytes through r3 at offset 0 of the 64-byte value of map 'ro_params'")]
    [InlineData("map_access_flags", "peek_into_ro", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: bpf_map_peek_elem writes a value of map 'queue' through r2 at offset 0 of the 8-byte value of map 'ro'")]
    [InlineData("map_access_flags", "mtu_into_ro", "write into map forbidden, value_size=8 off=0 size=4",
        "write into map forbidden: bpf_check_mtu writes 4 bytes through r3 at offset 0 of the 8-byte value of map 'ro'")]
    [InlineData("map_access_flags", "fib_into_ro", "write into map forbidden, value_size=64 off=0 size=64",
        "write into map forbidden: bpf_fib_lookup writes 64 bytes through r2 at offset 0 of the 64-byte value of map 'ro_params'")]
    [InlineData("map_access_flags", "snprintf_into_ro", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: bpf_snprintf writes 8 bytes through r1 at offset 0 of the 8-byte value of map 'ro'")]
    [InlineData("map_access_flags", "load_into_rodata", "write into map forbidden, value_size=21 off=8 size=8",
        "write into map forbidden: bpf_skb_load_bytes writes 8 bytes through r3 at offset 8 of the 21-byte value of map '.rodata', which is read-only to programs")]
    [InlineData("map_access_flags", "csum_diff_wo", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_csum_diff reads 8 bytes through r3 at offset 0 of the 8-byte value of map 'wo', which is write-only to programs (BPF_F_WRONLY_PROG)")]
    [InlineData("map_access_flags", "ringbuf_output_wo", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_ringbuf_output reads 8 bytes through r2 at offset 0 of the 8-byte value of map 'wo'")]
    [InlineData("map_access_flags", "update_from_wo", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_map_update_elem reads a value of map 'plain' through r3 at offset 0 of the 8-byte value of map 'wo'")]
    [InlineData("map_access_flags", "lookup_by_wo_key", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_map_lookup_elem reads the key of map 'plain' through r2 at offset 0 of the 8-byte value of map 'wo'")]
    [InlineData("map_access_flags", "push_from_wo", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_map_push_elem reads a value of map 'queue' through r2 at offset 0 of the 8-byte value of map 'wo'")]
    [InlineData("map_access_flags", "store_bytes_from_wo", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_skb_store_bytes reads 8 bytes through r3 at offset 0 of the 8-byte value of map 'wo'")]
    [InlineData("map_access_flags", "strncmp_wo", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: bpf_strncmp reads 8 bytes through r1 at offset 0 of the 8-byte value of map 'wo'")]
    [InlineData("map_access_flags", "redirect_neigh_wo", "read from map forbidden, value_size=64 off=0 size=20",
        "read from map forbidden: bpf_redirect_neigh reads 20 bytes through r2 at offset 0 of the 64-byte value of map 'wo_params'")]
    [InlineData("helper_sizes", "load_nothing", "R4 invalid zero-sized read", "bpf_skb_load_bytes: the size r4 is 0 (the helper needs memory)")]
    [InlineData("helper_sizes", "store_nothing", "R4 invalid zero-sized read", "bpf_skb_store_bytes: the size r4 is 0 (the helper needs memory)")]
    [InlineData("helper_sizes", "print_nothing", "R2 invalid zero-sized read", "bpf_trace_printk: the size r2 is 0 (the helper needs memory)")]
    public void TheKernelAndTheEngineRefuseIt(string testObject, string program, string kernelSays, string engineSays)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var image = obj.Programs.Single(p => p.Name == program);
        var kernel = Assert.Throws<PlatformException>(() => KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License)).Dispose());
        Assert.Contains(kernelSays, kernel.Message);
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(image, [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains(engineSays, engine.Message);
    }

    /// <summary>Just inside each limit the refusals above test: both load it.</summary>
    [PrivilegedTheory]
    [InlineData("call_limits", "eight_frames")]
    [InlineData("call_limits", "stack_512")]
    [InlineData("map_access_kept", "keeps_to_the_flags")]
    [InlineData("map_access_kept", "helpers_keep_to_the_flags")]
    [InlineData("map_access_kept", "plain_to_global")]
    [InlineData("helper_sizes", "zero_sizes_taken")]
    [InlineData("map_access_kept", "dead_write")]
    [InlineData("map_access_kept", "dead_helper_write")]
    [InlineData("map_access_kept", "dead_update")]
    [InlineData("map_access_kept", "dead_callback")]
    public void TheKernelAndTheEngineAcceptIt(string testObject, string program)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var image = obj.Programs.Single(p => p.Name == program);
        KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License)).Dispose();
        LoadedProgram.Load(image, [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance);
    }

    /// <summary>The switch in front of map_access_kept's writes into a read-only value is a .rodata constant both read
    /// at load: set to 1 (the config's .rodata contents), the writes are live and both refuse each program. (The
    /// kernel side of dead_callback needs BTF for its callback, which this raw load does not give, so only the engine
    /// is asked there.)</summary>
    [PrivilegedTheory]
    [InlineData("dead_write")]
    [InlineData("dead_helper_write")]
    [InlineData("dead_update")]
    [InlineData("dead_callback")]
    public void AConstantSwitchTurnedOnMakesTheWritesCount(string program)
    {
        var obj = TestObjects.LoadTestProgram("map_access_kept");
        var image = obj.Programs.Single(p => p.Name == program);
        var on = BitConverter.GetBytes(1);
        if (program != "dead_callback")
        {
            var kernel = Assert.Throws<PlatformException>(() => KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License),
                k => BpfSyscall.UpdateElem(k.MapFd(".rodata"), new byte[4], on)).Dispose());
            Assert.Contains("write into map forbidden", kernel.Message);
        }
        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        Assert.Equal(0, maps.Single(m => m.Name == ".rodata").UpdateFromUser(new byte[4], on, 0));
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(image, maps, Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains(program == "dead_update" ? "is read-only to programs (BPF_F_RDONLY_PROG), and bpf_map_update_elem" : "write into map forbidden", engine.Message);
    }

    /// <summary>A helper writing into a value read-only to programs through a pointer the verifier's analysis loses (a
    /// static function hands it back; the kernel follows it and refuses the program): the engine loads the program and
    /// the run faults on the write, leaving the value as it was, on both engines.</summary>
    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHelperWritingIntoAReadOnlyValueItLostFaults(bool jit)
    {
        var obj = TestObjects.LoadTestProgram("map_access_flags");
        var image = obj.Programs.Single(p => p.Name == "load_into_ro_lost");
        var kernel = Assert.Throws<PlatformException>(() => KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License)).Dispose());
        Assert.Contains("write into map forbidden", kernel.Message);

        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        var ro = maps.Single(m => m.Name == "ro");
        Assert.Equal(0, ro.UpdateFromUser(new byte[4], BitConverter.GetBytes(0x1122UL), 0));
        var program = LoadedProgram.Load(image, maps, Bpf.Helpers.LinuxHelperTable.Instance);
        var packet = Vm.VmTestSupport.Packet([.. Enumerable.Range(1, 64).Select(i => (byte)i)]);
        var result = Vm.VmTestSupport.Run(program, ref packet, new BpfVmOptions { UseJit = jit });
        Assert.Equal(BpfFault.ReadOnlyWrite, result.Fault);
        Assert.Equal(0x1122UL, Vm.VmTestSupport.UserValue(ro, new byte[4]));
    }

    /// <summary>A global function handed a value its map's flags bind: the kernel, given the object's BTF function info
    /// (libbpf loads the object), checks the call's pointer argument for a read and a write and refuses it though the
    /// function only reads (or only writes); the engine refuses the call, naming the map.</summary>
    [PrivilegedTheory]
    [InlineData("global_func_readonly", "write into map forbidden, value_size=8 off=0 size=8",
        "write into map forbidden: r1 hands the global function at instruction 13 (which the kernel checks on its own, as a function that may read and write what its pointer arguments point to) the memory at offset 0 of the 8-byte value of map 'ro', which is read-only to programs (BPF_F_RDONLY_PROG)")]
    [InlineData("global_func_writeonly", "read from map forbidden, value_size=8 off=0 size=8",
        "read from map forbidden: r1 hands the global function at instruction")]
    public void AGlobalFunctionHandedABoundValueIsRefused(string testObject, string kernelSays, string engineSays)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var kernel = Assert.Throws<InvalidOperationException>(() => KernelObject.LoadWithLibbpf(obj).Dispose());
        Assert.Contains(kernelSays, kernel.Message);
        Assert.Contains("Caller passes invalid args into func#1", kernel.Message);
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(), [.. obj.Maps.Select(d => BpfMap.Create(d))],
            Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains(engineSays, engine.Message);
    }

    /// <summary>map_access_kept loaded whole by libbpf, with its BTF function info (its global function is checked
    /// on its own): the kernel takes every program, and so does the engine.</summary>
    [PrivilegedFact]
    public void TheKeptProgramsLoadWithTheirFunctionInfo()
    {
        var obj = TestObjects.LoadTestProgram("map_access_kept");
        KernelObject.LoadWithLibbpf(obj).Dispose();
        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        foreach (var image in obj.Programs) LoadedProgram.Load(image, maps, Bpf.Helpers.LinuxHelperTable.Instance);
        Assert.Contains(obj.Programs, p => p.Name == "plain_to_global" && p.GlobalFunctions.Count == 1);
    }

    /// <summary>A spin-locked value in a map read-only to programs: the kernel refuses the map when it checks the value's
    /// BTF (libbpf says so, retries without BTF, and then the program is refused); the engine refuses the map.</summary>
    [PrivilegedFact]
    public void ASpinLockedValueCannotBeReadOnlyToPrograms()
    {
        var obj = TestObjects.LoadTestProgram("spin_lock_readonly");
        var kernel = Assert.Throws<InvalidOperationException>(() => KernelObject.LoadWithLibbpf(obj).Dispose());
        Assert.Contains("Error in bpf_create_map_xattr(ro_locked):Permission denied(-13)", kernel.Message);
        var engine = Assert.Throws<ArgumentException>(() => BpfMap.Create(obj.Maps.Single(m => m.Name == "ro_locked")));
        Assert.Contains("a value holding a struct bpf_spin_lock cannot be read-only or write-only to programs", engine.Message);
    }

    /// <summary>A static function that only dead code calls (a CO-RE check answered 0) is never verified by the kernel,
    /// so its stack counts 0 in the call chain: both load the program whose chain would pass 512 bytes if it counted.</summary>
    [PrivilegedFact]
    public void AFunctionOnlyDeadCodeCallsHoldsNoStackInTheChain()
    {
        var obj = TestObjects.LoadTestProgram("dead_call_stack");
        KernelObject.LoadWithLibbpf(obj).Dispose();
        LoadedProgram.Load(obj.Programs.Single(), [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance);
    }

    /// <summary>A tail call in a called function: the kernel takes it only with the object's BTF, so libbpf loads the
    /// object (one program each) into the kernel.</summary>
    [PrivilegedFact]
    public void ATailCallBelowCallersHolding256BytesIsRefusedByBoth()
    {
        var obj = TestObjects.LoadTestProgram("tail_call_stack_256");
        var kernel = Assert.Throws<InvalidOperationException>(() => KernelObject.LoadWithLibbpf(obj).Dispose());
        Assert.Contains("tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large", kernel.Message);
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(), [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains("a tail call in the function at instruction", engine.Message);
        Assert.Contains("whose callers hold 256 bytes of stack", engine.Message);

        var inside = TestObjects.LoadTestProgram("tail_call_stack_240");
        KernelObject.LoadWithLibbpf(inside).Dispose();
        LoadedProgram.Load(inside.Programs.Single(), [.. inside.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance);
    }

    /// <summary>Maps on either side of the kernel's creation limits (TestPrograms/map_limits.bpf.c): each definition the
    /// loader read is created in the kernel (BPF_MAP_CREATE; a map of maps with its inner template's fd) and by the engine's
    /// factory; both refuse it (the kernel with <paramref name="kernelErrno"/>, the engine saying <paramref name="engineSays"/>)
    /// or, for a null errno, both make it.</summary>
    [PrivilegedTheory]
    [InlineData("percpu_array_largest", null, null)]
    [InlineData("percpu_array_over", "E2BIG", "is more than the 32768 bytes (PCPU_MIN_UNIT_SIZE)")]
    [InlineData("percpu_hash_over", "E2BIG", "a per-CPU value of 32769 bytes (32776 rounded up to 8)")]
    [InlineData("lru_percpu_hash_largest", null, null)]
    [InlineData("lru_percpu_hash_over", "E2BIG", "(PCPU_MIN_UNIT_SIZE)")]
    [InlineData("hash_largest", null, null)]
    [InlineData("hash_over", "E2BIG", "key_size + value_size is 4194256 bytes: the kernel's hash maps take less than 4194256")]
    [InlineData("hash_key_none", "EINVAL", "key_size must be at least 1 (got 0)")]
    [InlineData("hash_key_513", null, null)]
    [InlineData("hash_key_largest", null, null)]
    [InlineData("hash_key_over", "E2BIG", "key_size + value_size is 4194256 bytes: the kernel's hash maps take less than 4194256")]
    [InlineData("percpu_hash_key_largest", null, null)]
    [InlineData("percpu_hash_key_over", "E2BIG", "key_size + value_size is 4194256 bytes")]
    [InlineData("lru_hash_key_largest", null, null)]
    [InlineData("lru_hash_key_over", "E2BIG", "key_size + value_size is 4194256 bytes")]
    [InlineData("lru_percpu_hash_key_largest", null, null)]
    [InlineData("lru_percpu_hash_key_over", "E2BIG", "key_size + value_size is 4194256 bytes")]
    [InlineData("hash_of_maps_key_513", null, null)]
    [InlineData("hash_of_maps_key_largest", null, null)]
    [InlineData("hash_of_maps_key_over", "E2BIG", "key_size + value_size is 4194256 bytes")]
    [InlineData("lpm_over", "EINVAL", "an lpm_trie value_size must be 1..4194024")]
    [InlineData("queue_largest", null, null)]
    [InlineData("stack_over", "E2BIG", "value_size 4194305 is more than the 4194304 bytes (KMALLOC_MAX_SIZE)")]
    [InlineData("array_mmapable_ok", null, null)]
    [InlineData("array_no_prealloc_over", "EINVAL", "map_flags 0x1 has BPF_F_NO_PREALLOC (0x1), which this map type does not take")]
    [InlineData("hash_mmapable_over", "EINVAL", "has BPF_F_MMAPABLE (0x400), which this map type does not take")]
    [InlineData("lru_hash_no_prealloc_over", "ENOTSUPP", "an LRU hash is always preallocated")]
    [InlineData("hash_read_write_only_over", "EINVAL", "both read-only and write-only")]
    public void TheKernelAndTheEngineRefuseTheSameMaps(string map, string? kernelErrno, string? engineSays)
    {
        var def = TestObjects.LoadTestProgram("map_limits").Maps.Single(m => m.Name == map);
        var inner = def.InnerMap;
        int innerFd = inner is null ? 0 : BpfSyscall.CreateMap((int)inner.Type, inner.KeySize, inner.ValueSize, inner.MaxEntries, "limits_inner", inner.Flags);
        try
        {
            int Kernel() => BpfSyscall.CreateMap((int)def.Type, def.KeySize, def.ValueSize, def.MaxEntries, def.Name, def.Flags, innerFd);
            if (kernelErrno is null)
            {
                LibC.Close(Kernel());
                BpfMap.Create(def);
                return;
            }
            var kernel = Assert.Throws<PlatformException>(() => LibC.Close(Kernel()));
            Assert.Contains($"({kernelErrno})", kernel.Message);
        }
        finally
        {
            if (innerFd > 0) LibC.Close(innerFd);
        }
        var engine = Assert.Throws<ArgumentException>(() => BpfMap.Create(def));
        Assert.Contains($"map '{map}'", engine.Message);
        Assert.Contains(engineSays!, engine.Message);
    }

    /// <summary>Every map type the engine makes, with each map_flags bit 0–20 in turn (and an LPM trie's required
    /// BPF_F_NO_PREALLOC, a map of maps' template fd): the kernel (BPF_MAP_CREATE, numa_node 0) and the engine's
    /// factory take or refuse the same ones. A table that refuses a flag the kernel takes would refuse public objects.</summary>
    [PrivilegedFact]
    public void TheKernelAndTheEngineTakeTheSameMapFlagsForEveryType()
    {
        (BpfMapType Type, int Key, int Value, int Max, uint Base)[] shapes =
        [
            (BpfMapType.Array, 4, 8, 4, 0), (BpfMapType.PercpuArray, 4, 8, 4, 0), (BpfMapType.Hash, 4, 8, 4, 0),
            (BpfMapType.PercpuHash, 4, 8, 4, 0), (BpfMapType.LruHash, 4, 8, 4, 0), (BpfMapType.LruPercpuHash, 4, 8, 4, 0),
            (BpfMapType.LpmTrie, 8, 8, 4, BpfMapFlags.NoPrealloc), (BpfMapType.Queue, 0, 8, 4, 0), (BpfMapType.Stack, 0, 8, 4, 0),
            (BpfMapType.RingBuf, 0, 0, 4096, 0), (BpfMapType.ProgArray, 4, 4, 4, 0), (BpfMapType.PerfEventArray, 4, 4, 4, 0),
            (BpfMapType.ArrayOfMaps, 4, 4, 4, 0), (BpfMapType.HashOfMaps, 4, 4, 4, 0),
        ];
        var inner = new BpfMapDefinition("flags_inner", BpfMapType.Array, 4, 8, 1);
        int innerFd = BpfSyscall.CreateMap((int)inner.Type, inner.KeySize, inner.ValueSize, inner.MaxEntries, inner.Name);
        var differences = new List<string>();
        int taken = 0, refused = 0;
        try
        {
            foreach (var (type, key, value, max, baseFlags) in shapes)
            {
                Assert.Null(BpfMapTypeNames.WhyUnsupported(type));
                bool mapOfMaps = type is BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps;
                for (int bit = -1; bit <= 20; bit++)
                {
                    uint flags = baseFlags | (bit < 0 ? 0 : 1u << bit);
                    var def = new BpfMapDefinition("flags_probe", type, key, value, max, flags) { InnerMap = mapOfMaps ? inner : null };
                    bool kernel;
                    try
                    {
                        LibC.Close(BpfSyscall.CreateMap((int)type, key, value, max, def.Name, flags, mapOfMaps ? innerFd : 0));
                        kernel = true;
                    }
                    catch (PlatformException)
                    {
                        kernel = false;
                    }
                    string? engineSays = null;
                    try
                    {
                        BpfMap.Create(def);
                    }
                    catch (ArgumentException e)
                    {
                        engineSays = e.Message;
                    }
                    if (kernel) taken++; else refused++;
                    if (kernel != (engineSays is null))
                        differences.Add($"{type} map_flags 0x{flags:x}: kernel {(kernel ? "takes it" : "refuses it")}, engine {engineSays ?? "takes it"}");
                }
            }
        }
        finally
        {
            LibC.Close(innerFd);
        }
        Assert.True(differences.Count == 0, string.Join('\n', differences));
        Assert.True(taken > shapes.Length * 3 && refused > shapes.Length * 15, $"{taken} taken, {refused} refused: the probe does not reach both sides");
    }

    /// <summary>A map of maps' inner template is a map libbpf creates in the kernel first: the kernel refuses the object
    /// when it refuses the template; the engine refuses the outer map saying why. (Inner types the kernel does not nest,
    /// prog arrays, the loader refuses when it reads the object.)</summary>
    [PrivilegedTheory]
    [InlineData("inner_percpu_over", "Argument list too long", "its inner map template cannot be made: map 'outer.inner' (PercpuArray): a per-CPU value of 32769 bytes")]
    [InlineData("inner_percpu_largest", null, null)]
    [InlineData("inner_perf_buffer", null, null)] // a perf buffer template without max_entries: one entry per CPU, as libbpf
    public void TheKernelAndTheEngineRefuseTheSameInnerMaps(string testObject, string? kernelSays, string? engineSays)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var outer = obj.Maps.Single(m => m.Name == "outer");
        if (kernelSays is null)
        {
            KernelObject.LoadWithLibbpf(obj).Dispose();
            BpfMap.Create(outer);
            return;
        }
        var kernel = Assert.Throws<InvalidOperationException>(() => KernelObject.LoadWithLibbpf(obj).Dispose());
        Assert.Contains("map 'outer': failed to create", kernel.Message);
        Assert.Contains(kernelSays, kernel.Message);
        var engine = Assert.Throws<ArgumentException>(() => BpfMap.Create(outer));
        Assert.Contains("map 'outer' (ArrayOfMaps): ", engine.Message);
        Assert.Contains(engineSays!, engine.Message);
    }
}
