using System.Runtime.InteropServices;
using System.Text;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>__kconfig externs on a kernel the test makes up (its release and config): the <c>.kconfig</c> map libbpf
/// would make for it, laid out as libbpf lays it out, frozen, and the program reading it; the externs libbpf refuses.
/// (The differential test:kconfig_values compares the running kernel's values with libbpf's.)</summary>
public sealed class KconfigTests
{
    private const string Config = "CONFIG_BPF_SYSCALL=y\nCONFIG_HZ=1000\nCONFIG_IPV6=m\nCONFIG_LOCALVERSION=\"-test\"\n"
        + "CONFIG_DEFAULT_HOSTNAME=\"router\"\nCONFIG_NR_CPUS=64\nCONFIG_BPF_JIT=y\n# CONFIG_KPROBES is not set\n";

    private static RunningKernel Kernel(string release, string? config = Config, bool kprobes = true) =>
        new(release, "#1 SMP", null, () => new(config is null ? null : Encoding.ASCII.GetBytes(config), config is null ? "no config here" : "made-up config"),
            kprobes, false, Architecture.X64);

    private static BpfObject Load(string program, RunningKernel kernel) =>
        BpfObjectLoader.Load(File.ReadAllBytes(TestObjects.TestProgramPath(program)), program, kernel);

    [Fact]
    public void TheKconfigMapHoldsTheKernelsValuesWhereLibbpfPlacesThem()
    {
        var obj = Load("kconfig_values", Kernel("5.10.300-board"));
        var map = obj.Maps[^1];
        Assert.Equal((".kconfig", BpfMapType.Array, 4, 70, 1, BpfMapFlags.ReadOnlyProg), (map.Name, map.Type, map.KeySize, map.ValueSize, map.MaxEntries, map.Flags));
        Assert.True(map.Frozen);
        Assert.True(map.FromKernel);

        // The offsets libbpf 1.1 printed for this object (bpftool -d prog loadall): by alignment, then size, then name.
        var expected = new byte[70];
        BitConverter.TryWriteBytes(expected.AsSpan(0), 64UL); // CONFIG_NR_CPUS
        // 8: CONFIG_DOES_NOT_EXIST, weak: 0
        BitConverter.TryWriteBytes(expected.AsSpan(12), 1000); // CONFIG_HZ
        BitConverter.TryWriteBytes(expected.AsSpan(16), 2); // CONFIG_IPV6: TRI_MODULE
        // 20: CONFIG_KPROBES "is not set": TRI_NO
        BitConverter.TryWriteBytes(expected.AsSpan(24), 0x050affu); // LINUX_KERNEL_VERSION: 5.10.255
        // 28: CONFIG_LOG_BUF_SHIFT, weak and absent: 0
        expected[30] = (byte)'y'; // CONFIG_BPF_JIT, a char
        expected[31] = 1; // CONFIG_BPF_SYSCALL
        expected[32] = 0; // LINUX_HAS_BPF_COOKIE: before 5.15
        expected[33] = 1; // LINUX_HAS_SYSCALL_WRAPPER: x86-64 since 4.17, with kprobes
        "rou"u8.CopyTo(expected.AsSpan(34)); // CONFIG_DEFAULT_HOSTNAME[4]
        "-test"u8.CopyTo(expected.AsSpan(38)); // CONFIG_LOCALVERSION[32]
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(map.InitialValue!));

        // The program reads them through the map (verdict: TC_ACT_OK + CONFIG_BPF_SYSCALL + len & 3; IPV6 is m, not y).
        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        var loaded = LoadedProgram.Load(obj.Programs.Single(), maps, LinuxHelperTable.Instance);
        using var vm = new BpfVm();
        var frame = new byte[200];
        var packet = Vm.VmTestSupport.Packet(frame);
        Assert.Equal(1UL + (200 & 3), vm.Run(loaded, ref packet).R0);
        var seen = new byte[maps[0].ValueSize];
        Assert.True(maps[0].TryLookupFromUser(new byte[4], seen));
        Assert.Equal(0x050affu, BitConverter.ToUInt32(seen, 0));
        Assert.Equal(1000u, BitConverter.ToUInt32(seen, 4));
        Assert.Equal("-test", Encoding.ASCII.GetString(seen, 32, 5));
    }

    /// <summary>The branch on the kernel's version is folded as the kernel's verifier folds it, by the frozen map's
    /// value: before 3.0 the call of a helper the appliance lacks is live, and the program is refused for it.</summary>
    [Fact]
    public void ABranchOnTheKernelsVersionIsFoldedByItsValue()
    {
        var old = Load("kconfig_values", Kernel("2.6.32"));
        var maps = old.Maps.Select(d => BpfMap.Create(d)).ToArray();
        var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(old.Programs.Single(), maps, LinuxHelperTable.Instance));
        Assert.Contains("get_socket_cookie", e.Message);
    }

    [Fact]
    public void AnExternTheConfigDoesNotSetRefusesTheObjectUnlessWeak()
    {
        var e = Assert.Throws<BpfLoadException>(() => Load("kconfig_missing", Kernel("6.1.0")));
        Assert.Contains("extern (__kconfig) 'CONFIG_APPLIANCE_MADE_UP' has no value: the running kernel's config (made-up config) does not set it", e.Message);

        // The running kernel's config does not set it either.
        e = Assert.Throws<BpfLoadException>(() => TestObjects.LoadTestProgram("kconfig_missing"));
        Assert.Contains("'CONFIG_APPLIANCE_MADE_UP' has no value", e.Message);

        // A kernel without a config it can read: the strong externs have no value.
        e = Assert.Throws<BpfLoadException>(() => Load("kconfig_values", Kernel("6.1.0", config: null)));
        Assert.Contains("has no value: the running kernel's config cannot be read (no config here)", e.Message);

        // A bad line refuses the config, naming it.
        e = Assert.Throws<BpfLoadException>(() => Load("kconfig_values", Kernel("6.1.0", Config + "CONFIG_HZ_300\n")));
        Assert.Contains("the running kernel's config: made-up config line 9: 'CONFIG_HZ_300' has no '='", e.Message);
    }

    [Fact]
    public void WithoutAConfigWeakExternsAreZeroAndVirtualOnesAreSet()
    {
        var obj = Compile("""
            #include "appliance_bpf.h"
            extern unsigned int LINUX_KERNEL_VERSION __kconfig;
            extern int CONFIG_HZ __kconfig __weak;
            extern _Bool LINUX_HAS_SOMETHING_NEW __kconfig __weak;
            SEC("tc") int prog(struct __sk_buff *skb) { return CONFIG_HZ + LINUX_HAS_SOMETHING_NEW + (LINUX_KERNEL_VERSION >> 16); }
            char LICENSE[] SEC("license") = "GPL";
            """, Kernel("6.1.7", config: null));
        // CONFIG_HZ (weak: 0), LINUX_KERNEL_VERSION 6.1.7, LINUX_HAS_SOMETHING_NEW (weak and unknown: 0)
        Assert.Equal("000000000701060000", Convert.ToHexString(obj.Maps[^1].InitialValue!));
    }

    [Theory]
    [InlineData("extern _Bool LINUX_HAS_SOMETHING_NEW __kconfig;", "LINUX_HAS_SOMETHING_NEW", "extern (__kconfig) 'LINUX_HAS_SOMETHING_NEW' is neither a CONFIG_ value")]
    [InlineData("extern int MY_SETTING __kconfig __weak;", "MY_SETTING", "extern (__kconfig) 'MY_SETTING' is neither a CONFIG_ value")]
    [InlineData("extern unsigned char LINUX_KERNEL_VERSION __kconfig;", "LINUX_KERNEL_VERSION", "value 393479 (0x60107) does not fit its 1 byte")]
    [InlineData("extern enum libbpf_tristate LINUX_HAS_BPF_COOKIE __kconfig;", "LINUX_HAS_BPF_COOKIE", "value 1 is a number, and the extern is an enum libbpf_tristate")]
    [InlineData("extern struct { int a; } CONFIG_HZ __kconfig;", "CONFIG_HZ", "extern (__kconfig) 'CONFIG_HZ': its type is not one libbpf takes")]
    [InlineData("extern int CONFIG_HZ[2] __kconfig;", "CONFIG_HZ", "extern (__kconfig) 'CONFIG_HZ': its type is not one libbpf takes")]
    [InlineData("extern _Bool CONFIG_HZ __kconfig;", "CONFIG_HZ", "value '1000' is a number, and the extern is a bool")]
    public void ExternsLibbpfRefusesRefuseTheObject(string declaration, string name, string reason)
    {
        var e = Assert.Throws<BpfLoadException>(() => Compile($$"""
            #include "appliance_bpf.h"
            {{declaration}}
            SEC("tc") int prog(struct __sk_buff *skb) { return *(volatile char *)&{{name}}; }
            char LICENSE[] SEC("license") = "GPL";
            """, Kernel("6.1.7")));
        Assert.Contains(reason, e.Message);
    }

    private static BpfObject Compile(string source, RunningKernel kernel)
    {
        var dir = Directory.CreateTempSubdirectory("mapp-kconfig-").FullName;
        try
        {
            string obj = TestObjects.Compile(dir, source);
            return BpfObjectLoader.Load(File.ReadAllBytes(obj), "test.bpf.o", kernel);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
