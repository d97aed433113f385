using Appliance.Bpf.Assembly;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>The engine runs tc programs; a program whose section names another program type (XDP, kprobe,
/// socket filter …) is refused at load with its name and type, instead of running with the wrong context.</summary>
[Collection(KernelCollection.Name)]
public sealed class ProgramTypeTests
{
    private const string TwoInstructions = "mov %r0, 2\nexit";

    private static void Verify(string section) =>
        BpfVerifier.Verify(new BpfProgramImage("p", section, BpfAssembler.Assemble(TwoInstructions)), 0, LinuxHelperTable.Instance);

    [Theory]
    [InlineData("xdp", "an XDP program")]
    [InlineData("xdp.frags", "an XDP program")]
    [InlineData("xdp/devmap", "an XDP program")]
    [InlineData("xdp_redirect", "an XDP program")]   // samples/bpf's loader: any "xdp…" section
    [InlineData("kprobe/do_sys_open", "a kprobe")]
    [InlineData("tracepoint/net/netif_receive_skb", "a tracepoint program")]
    [InlineData("socket", "a socket filter")]
    [InlineData("cgroup_skb/ingress", "a cgroup program")]
    [InlineData("lwt_xmit", "an LWT program")]
    [InlineData("sk_skb/stream_verdict", "an SK_SKB program")]
    [InlineData("?xdp", "an XDP program")]            // libbpf's '?': not loaded unless asked, same type
    [InlineData("?raw_tp/sys_enter", "a raw tracepoint program")]
    public void ASectionOfAnotherProgramTypeIsRefusedNamingIt(string section, string type)
    {
        var e = Assert.Throws<BpfVerifierException>(() => Verify(section));
        Assert.Equal(-1, e.InstructionIndex);
        Assert.StartsWith($"{section} (program p): it is {type}", e.Message, StringComparison.Ordinal);
        Assert.Contains("the appliance runs tc programs only", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tc")]
    [InlineData("tc/ingress")]
    [InlineData("classifier")]
    [InlineData("action")]
    [InlineData("tcx/egress")]
    [InlineData("netkit/peer")]
    [InlineData("netkit/primary")]
    [InlineData("drop_non_tun_vip")] // iproute2's tc loads any section name as a classifier
    [InlineData("tpx")]
    [InlineData("sockettes")]
    [InlineData("?tc")]
    public void TcSectionsAndFreeNamesAreTcPrograms(string section) => Verify(section);

    /// <summary>A clang-built object with an XDP program (reading xdp_md, no XDP helper) beside a tc one: the
    /// kernel's answer for the XDP one depends on the type it is loaded as; the engine loads the tc
    /// program and refuses the XDP one by name.</summary>
    [PrivilegedFact]
    public void AnXdpProgramInAnObjectIsRefusedAndItsTcNeighbourLoads()
    {
        var obj = TestObjects.LoadTestProgram("xdp_section");
        var maps = obj.Maps.Select(def => BpfMap.Create(def)).ToArray();
        var xdp = obj.Programs.Single(p => p.Name == "short_frames");
        var tc = obj.Programs.Single(p => p.Name == "long_frames");

        var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(xdp, maps, LinuxHelperTable.Instance));
        Assert.StartsWith("xdp (program short_frames): it is an XDP program (context struct xdp_md, XDP_* verdicts)", e.Message, StringComparison.Ordinal);
        Assert.Equal("long_frames", LoadedProgram.Load(tc, maps, LinuxHelperTable.Instance).Name);

        // In the kernel the same instructions answer as XDP and otherwise as tc: what running it with the wrong
        // context would do (xdp_md.data/data_end read as __sk_buff.len/pkt_type).
        const int ProgTypeXdp = 6;
        var frame = Oracle.PacketBuilder.Ipv4(Oracle.PacketBuilder.Tcp, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 80, 10); // 64 bytes
        Assert.Equal((2u, 1u), (KernelVerdict(ProgTypeXdp, xdp, obj.License, frame), KernelVerdict(Oracle.KernelBpf.ProgTypeSchedCls, xdp, obj.License, frame)));
        Assert.Equal(1u, KernelVerdict(ProgTypeXdp, xdp, obj.License, frame[..40])); // XDP_DROP
    }

    private static uint KernelVerdict(int type, BpfProgramImage image, string license, byte[] frame)
    {
        int fd = BpfSyscall.LoadProgram(type, image.Instructions, image.Name, license);
        try
        {
            return Oracle.KernelBpf.TestRun(fd, frame, new byte[frame.Length + 4096]).Retval;
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
