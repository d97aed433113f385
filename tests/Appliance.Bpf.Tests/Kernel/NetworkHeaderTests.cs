using Appliance.Bpf.Assembly;
using Appliance.Bpf.Objects;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>The network header stays where it was when a helper moves the packet start (the kernel's
/// skb_network_offset, <see cref="Vm.BpfVm.NetworkOffset"/>): after bpf_skb_change_head, bpf_skb_change_tail may not
/// cut into the longer L2 header (-EINVAL) and LD_ABS at SKF_NET_OFF reads the first byte of the IPv4 header where
/// it now is. A second bpf_skb_vlan_push (the first tag written into the frame) moves it back with the packet start: LD_ABS
/// at SKF_NET_OFF then reads the tag's first byte, and after popping the in-band tag the IPv4 header's again. bpf_skb_ecn_set_ce
/// after change_head finds the header where it was too. The same program in the kernel (BPF_PROG_TEST_RUN), the interpreter
/// and the JIT.</summary>
[Collection(KernelCollection.Name)]
public sealed class NetworkHeaderTests
{
    private const string HeadThenTail = """
        mov %r6, %r1
        mov %r1, %r6
        mov %r2, 8
        mov %r3, 0
        call 43
        mov %r1, %r6
        mov %r2, 20
        mov %r3, 0
        call 38
        mov %r7, %r0
        and %r7, 0xff
        lsh %r7, 8
        ldabsb -0x100000
        or %r0, %r7
        exit
        """;

    private const string VlanPushPushPop = """
        mov %r6, %r1
        mov %r1, %r6
        mov %r2, 0x0081
        mov %r3, 5
        call 18
        mov %r1, %r6
        mov %r2, 0x0081
        mov %r3, 6
        call 18
        ldabsb -0x100000
        mov %r7, %r0
        lsh %r7, 8
        mov %r1, %r6
        call 19
        ldabsb -0x100000
        or %r0, %r7
        exit
        """;

    /// <summary>bpf_skb_change_head(8), then bpf_skb_ecn_set_ce on a frame with an in-band tag: the kernel looks for the
    /// tagged protocol from the type field before the (moved) network header, finds IPv4, and marks the "IPv4 header" at
    /// the network header — the tag's bytes now (TCI 5: ECT(0), so CE is set and the "checksum" fixed): r0 = 1.</summary>
    private const string HeadThenEcn = """
        mov %r6, %r1
        mov %r1, %r6
        mov %r2, 8
        mov %r3, 0
        call 43
        mov %r1, %r6
        call 97
        exit
        """;

    /// <summary>bpf_skb_change_tail(20), then bpf_skb_adjust_room(+8, BPF_ADJ_ROOM_NET): the room goes after the IPv4
    /// header, which now ends past the packet: the kernel refuses with -ENOMEM.</summary>
    private const string TailThenAdjustRoom = """
        mov %r6, %r1
        mov %r1, %r6
        mov %r2, 20
        mov %r3, 0
        call 38
        mov %r1, %r6
        mov %r2, 8
        mov %r3, 0
        mov %r4, 0
        call 50
        exit
        """;

    [PrivilegedTheory]
    [InlineData(HeadThenTail, 0, 0xea45u)]     // change_tail(20) < the 22-byte L2 header: -EINVAL (0xea); then 0x45, version and IHL
    [InlineData(VlanPushPushPop, 0, 0x0045u)]  // the in-band tag's first byte (TCI 5), then after its pop the IPv4 header's
    [InlineData(HeadThenEcn, 5, 1u)]
    [InlineData(TailThenAdjustRoom, 0, 0xfffffff4u)]  // room at 34, past the 20-byte packet: -ENOMEM (ours threw, a fault)
    public void HelpersThatMoveThePacketStartLeaveTheNetworkHeaderWhereItWas(string text, int vlan, uint expected)
    {
        var obj = new BpfObject("network_header", [new BpfProgramImage("p", "tc", BpfAssembler.Assemble(text))], [], "GPL");
        var frame = PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, 10, vlan == 0 ? null : (ushort)vlan);
        using var kernel = KernelObject.Load(obj);
        var k = kernel.Run("p", frame);
        Assert.Equal(expected, k.Retval);
        foreach (bool jit in new[] { false, true })
        {
            using var engine = new EngineObject(obj, jit);
            var run = engine.Run("p", frame);
            Assert.False(run.Run.Faulted, $"{(jit ? "JIT" : "interpreter")}: {run.Run.Fault}");
            Assert.Equal(expected, (uint)run.Run.R0);
            Assert.Equal(Convert.ToHexString(k.Frame), Convert.ToHexString(run.Frame));
        }
    }

    /// <summary>bpf_skb_adjust_room(-20, BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_DECAP_L3_IPV4) on a 62-byte IPv6 frame: the
    /// 20 bytes after the 40-byte IPv6 header (at 54) reach past the packet, while what follows the network header
    /// (48 bytes) keeps the 20 a decapsulated IPv4 header needs, so the length checks pass and the kernel's pop refuses
    /// with -ENOMEM (ours threw, a fault); the frame stays as it was.</summary>
    [PrivilegedFact]
    public void ShrinkingRoomThatEndsPastThePacketIsENOMEM()
    {
        const string text = """
            mov %r2, -20
            mov %r3, 0
            mov %r4, 128
            call 50
            exit
            """;
        var obj = new BpfObject("shrink_past_end", [new BpfProgramImage("p", "tc", BpfAssembler.Assemble(text))], [], "GPL");
        var frame = PacketBuilder.Ipv6(PacketBuilder.Udp, new byte[16], new byte[16], 1000, 53, 0);
        Assert.Equal(62, frame.Length);
        using var kernel = KernelObject.Load(obj);
        var k = kernel.Run("p", frame);
        Assert.Equal(0xfffffff4u, k.Retval);
        foreach (bool jit in new[] { false, true })
        {
            using var engine = new EngineObject(obj, jit);
            var run = engine.Run("p", frame);
            Assert.False(run.Run.Faulted, $"{(jit ? "JIT" : "interpreter")}: {run.Run.Fault}");
            Assert.Equal(k.Retval, (uint)run.Run.R0);
            Assert.Equal(Convert.ToHexString(k.Frame), Convert.ToHexString(run.Frame));
        }
    }
}
