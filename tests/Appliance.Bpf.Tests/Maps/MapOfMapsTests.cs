using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Tests.Vm;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>array_of_maps / hash_of_maps: the inner template from BTF, libbpf's static slots, the kernel's
/// template check, and programs reaching inner maps through a lookup.</summary>
public sealed class MapOfMapsTests
{
    private static readonly BpfMapDefinition Inner = new("inner", BpfMapType.Array, 4, 8, 2);

    private static MapOfMaps Outer(BpfMapType type, int max = 2) =>
        (MapOfMaps)BpfMap.Create(new BpfMapDefinition("outer", type, 4, 4, max) { InnerMap = Inner });

    private static byte[] Key(uint k) => BitConverter.GetBytes(k);

    /// <summary>A map of maps whose inner template is itself (a struct type naming itself in `values`) is refused when
    /// the inner map is read, before its own template: reading it recursed until the stack overflowed, which no catch
    /// survives (found by fuzzing).</summary>
    [Fact]
    public void AnInnerTemplateThatIsItsOwnOuterMapIsRefused()
    {
        var dir = Directory.CreateTempSubdirectory("mapp-mom-").FullName;
        try
        {
            string obj = TestObjects.Compile(dir, """
                #include "appliance_bpf.h"
                struct nested {
                    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
                    __uint(max_entries, 1);
                    __type(key, __u32);
                    __array(values, struct nested);
                } nested SEC(".maps");
                SEC("tc") int prog(struct __sk_buff *skb) { return 0; }
                char LICENSE[] SEC("license") = "GPL";
                """);
            var e = Assert.Throws<Objects.BpfLoadException>(() => Objects.BpfObjectLoader.Load(obj));
            Assert.Contains("map 'nested' in section '.maps'", e.Message);
            Assert.Contains("(inner map): an inner map cannot be a ArrayOfMaps (as in the kernel)", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A prog array cannot be an inner map (the kernel refuses it: ENOTSUPP); the loader says so for the inner map.</summary>
    [Fact]
    public void AProgArrayInnerTemplateIsRefused()
    {
        var dir = Directory.CreateTempSubdirectory("mapp-mom-").FullName;
        try
        {
            string obj = TestObjects.Compile(dir, """
                #include "appliance_bpf.h"
                struct jumps { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 4); };
                struct {
                    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
                    __uint(max_entries, 1);
                    __type(key, __u32);
                    __array(values, struct jumps);
                } outer SEC(".maps");
                SEC("tc") int prog(struct __sk_buff *skb) { return 0; }
                char LICENSE[] SEC("license") = "GPL";
                """);
            var e = Assert.Throws<Objects.BpfLoadException>(() => Objects.BpfObjectLoader.Load(obj));
            Assert.Contains("map 'outer' in section '.maps'", e.Message);
            Assert.Contains("an inner map cannot be a ProgArray (as in the kernel)", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheLoaderReadsTheInnerTemplateAndTheStaticSlots()
    {
        var obj = BpfObjectLoaderFor("tenant_tables");
        var tenants = obj.Maps.Single(m => m.Name == "tenants");
        Assert.Equal(BpfMapType.ArrayOfMaps, tenants.Type);
        Assert.Equal(4, tenants.ValueSize);
        Assert.Equal(BpfMapType.Hash, tenants.InnerMap!.Type);
        Assert.Equal((2, 8, 16), (tenants.InnerMap.KeySize, tenants.InnerMap.ValueSize, tenants.InnerMap.MaxEntries));
        Assert.Equal([(0, "ports_a"), (1, "ports_b")], tenants.InitialInnerMaps);
        Assert.Equal([(6, "tcp_counts"), (17, "udp_counts")], obj.Maps.Single(m => m.Name == "by_proto").InitialInnerMaps.OrderBy(s => s.Slot));
    }

    private static Objects.BpfObject BpfObjectLoaderFor(string corpus) => Objects.BpfObjectLoader.Load(TestObjects.CorpusPath(corpus, "v3"));

    [Fact]
    public void OnlyMapsMatchingTheTemplateGoIn()
    {
        var outer = Outer(BpfMapType.ArrayOfMaps);
        Assert.Equal(-Errno.EINVAL, outer.SetInner(Key(0), BpfMap.Create(Inner with { ValueSize = 4 }), 0));
        Assert.Equal(-Errno.EINVAL, outer.SetInner(Key(0), BpfMap.Create(Inner with { MaxEntries = 3 }), 0));
        Assert.Equal(-Errno.E2BIG, outer.SetInner(Key(2), BpfMap.Create(Inner), 0));
        var inner = BpfMap.Create(Inner);
        Assert.Equal(0, outer.SetInner(Key(1), inner, 0));
        Assert.Same(inner, outer.LookupInner(Key(1)));
        Assert.Null(outer.LookupInner(Key(0)));
        var id = new byte[4];
        Assert.True(outer.TryLookupFromUser(Key(1), id));
        Assert.Equal(inner.Id, BitConverter.ToInt32(id));
        Assert.Equal(0, outer.Delete(Key(1)));
        Assert.Equal(-Errno.ENOENT, outer.Delete(Key(1)));
    }

    /// <summary>An inner map matches its template without BPF_F_RDONLY / BPF_F_WRONLY, which bind only the fd that
    /// created a map (the kernel clears them from the map); the program flags are the map's own and must match. The
    /// kernel takes and refuses the same inner maps.</summary>
    [PrivilegedFact]
    public void TheFdOnlyFlagsDoNotKeepAnInnerMapOut()
    {
        const int arrayType = 2, arrayOfMaps = 12;
        var outer = Outer(BpfMapType.ArrayOfMaps);
        Assert.Equal(0, outer.SetInner(Key(0), BpfMap.Create(Inner with { Flags = BpfMapFlags.ReadOnly }), 0));
        Assert.Equal(0, outer.SetInner(Key(1), BpfMap.Create(Inner with { Flags = BpfMapFlags.WriteOnly }), 0));
        Assert.Equal(-Errno.EINVAL, outer.SetInner(Key(1), BpfMap.Create(Inner with { Flags = BpfMapFlags.ReadOnlyProg }), 0));

        var fds = new List<int>();
        try
        {
            int Create(uint flags, int innerFd = 0, int type = arrayType, int valueSize = 8)
            {
                int fd = Interop.BpfSyscall.CreateMap(type, 4, valueSize, 2, "mom_probe", flags, innerFd);
                fds.Add(fd);
                return fd;
            }
            int kernelOuter = Create(0, Create(0), arrayOfMaps, 4);
            int Put(uint slot, uint innerFlags) => Interop.BpfSyscall.TryUpdateElem(kernelOuter, Key(slot), BitConverter.GetBytes(Create(innerFlags)));
            Assert.Equal(0, Put(0, BpfMapFlags.ReadOnly));
            Assert.Equal(0, Put(1, BpfMapFlags.WriteOnly));
            Assert.Equal(Errno.EINVAL, Put(1, BpfMapFlags.ReadOnlyProg));
        }
        finally
        {
            foreach (int fd in fds) Interop.LibC.Close(fd);
        }
    }

    [Fact]
    public void AHashOfMapsReusesTheSlotsOfDeletedElements()
    {
        var outer = Outer(BpfMapType.HashOfMaps);
        Assert.Equal(0, outer.SetInner(Key(100), BpfMap.Create(Inner), 0));
        Assert.Equal(0, outer.SetInner(Key(200), BpfMap.Create(Inner), 0));
        Assert.Equal(-Errno.E2BIG, outer.SetInner(Key(300), BpfMap.Create(Inner), 0));
        Assert.Equal(-Errno.EEXIST, outer.SetInner(Key(100), BpfMap.Create(Inner), 1));
        Assert.Equal(0, outer.Delete(Key(100)));
        var third = BpfMap.Create(Inner);
        Assert.Equal(0, outer.SetInner(Key(300), third, 0));
        Assert.Same(third, outer.LookupInner(Key(300)));
        Assert.Null(outer.LookupInner(Key(100)));
    }

    [Fact]
    public void AProgramReachesTheInnerMapThroughALookupAndCannotChangeTheOuterMap()
    {
        var outer = Outer(BpfMapType.ArrayOfMaps);
        var inner = BpfMap.Create(Inner); // not one of the program's maps: a run-local handle
        Assert.Equal(0, outer.SetInner(Key(1), inner, 0));
        const string program = """
            stw [%r10-4], 1
            mov %r2, %r10
            add %r2, -4
            lddw %r1, map[0]
            call 1
            jeq %r0, 0, +8
            mov %r1, %r0
            stw [%r10-8], 1
            mov %r2, %r10
            add %r2, -8
            call 1
            jeq %r0, 0, +2
            stdw [%r0+0], 77
            mov %r0, 1
            exit
            """;
        Assert.Equal(1UL, VmTestSupport.Run(program, null, outer).R0);
        Assert.True(inner.TryLookup(Key(1), out var v));
        Assert.Equal(77UL, BitConverter.ToUInt64(v));
        // An update of the outer map is refused at load, as the kernel refuses it ("cannot pass map_type 12 into func
        // bpf_map_update_elem#2"); with the map passed through the stack, where only the run sees it, the run faults.
        const string Update = "stw [%r10-4], 0\nstw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\nlddw %r1, map[0]\ncall 2\nexit";
        Assert.Contains("cannot pass map_type 12 into func bpf_map_update_elem#2",
            Assert.Throws<Bpf.Verifier.BpfVerifierException>(() => VmTestSupport.Load(Update, outer)).Message);
        var update = VmTestSupport.Run(Update.Replace("call 2", "stxdw [%r10-16], %r1\nldxdw %r1, [%r10-16]\ncall 2"), null, outer);
        Assert.Equal(Bpf.Vm.BpfFault.HelperMisuse, update.Fault);
    }

    /// <summary>A hash of maps takes keys of any size the kernel takes (key + its 4-byte value below 4 MiB − 48): with
    /// 2048-byte keys differing only in their last byte, user space sets, lists and deletes elements, and a program
    /// reaches the inner map with the key built in a map value (map 1), on both engines.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHashOfMapsTakesKeysLargerThanTheStack(bool jit)
    {
        var outer = (MapOfMaps)BpfMap.Create(new BpfMapDefinition("outer", BpfMapType.HashOfMaps, 2048, 4, 2) { InnerMap = Inner });
        var keys = BpfMap.Create(new BpfMapDefinition("keys", BpfMapType.Array, 4, 2048, 1));
        byte[] first = new byte[2048], second = new byte[2048];
        second[^1] = 1;
        var inner = BpfMap.Create(Inner);
        Assert.Equal(0, outer.SetInner(first, BpfMap.Create(Inner), 0));
        Assert.Equal(0, outer.SetInner(second, inner, 0));
        var listed = new byte[2048];
        Assert.True(outer.TryGetNextKey(first, listed));
        Assert.Equal(second, listed);
        Assert.Equal(0, keys.UpdateFromUser(Key(0), second, 0));
        const string program = """
            stw [%r10-4], 0
            mov %r2, %r10
            add %r2, -4
            lddw %r1, map[1]
            call 1
            jeq %r0, 0, +12
            mov %r2, %r0
            lddw %r1, map[0]
            call 1
            jeq %r0, 0, +8
            mov %r1, %r0
            stw [%r10-8], 1
            mov %r2, %r10
            add %r2, -8
            call 1
            jeq %r0, 0, +2
            stdw [%r0+0], 77
            mov %r0, 1
            exit
            """;
        using var vm = new Bpf.Vm.BpfVm(new Bpf.Vm.BpfVmOptions { UseJit = jit });
        var r = VmTestSupport.RunOnZeroFrame(vm, VmTestSupport.LoadFor(program, jit, outer, keys));
        Assert.Equal(1UL, r.R0);
        Assert.True(inner.TryLookup(Key(1), out var v));
        Assert.Equal(77UL, BitConverter.ToUInt64(v));
        Assert.Equal(0, outer.Delete(second));
        Assert.Null(outer.LookupInner(second));
        Assert.NotNull(outer.LookupInner(first));
    }
}
