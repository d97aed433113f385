using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_skb_vlan_push (18), which the JIT does in the code for a frame without an offloaded tag (see
/// JitLowering.InlineVlanPush) and leaves to the helper otherwise. Each case runs on both engines: the offloaded
/// tag the packet carries afterwards, what the program reads back from the <c>__sk_buff</c>, a helper after the
/// push seeing the tag (bpf_skb_vlan_pop), and a second push, which moves the first tag into the frame's bytes.
/// The arm64 code runs the same helper in the random differential under qemu (Arm64JitTests).</summary>
public sealed class InlineVlanPushTests
{
    private static readonly byte[] Frame = VmTestSupport.Ipv4UdpFrame();

    private static (BpfRunResult Run, Context.PacketContext Packet) Run(string text, bool jit)
    {
        var program = VmTestSupport.Load(text);
        if (jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(Frame);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(program, ref packet);
        return (r, packet);
    }

    /// <summary>Pushes (<paramref name="proto"/>, <paramref name="tci"/>) and returns vlan_present &lt;&lt; 32 |
    /// vlan_proto &lt;&lt; 16 | vlan_tci as the program reads them after the push (or the push's error).</summary>
    private static string PushAndRead(long proto, long tci) => $"""
        mov %r6, %r1
        lddw %r2, {proto}
        lddw %r3, {tci}
        call 18
        jne %r0, 0, out
        ldxw %r0, [%r6+20]
        lsh %r0, 16
        ldxw %r1, [%r6+28]
        or %r0, %r1
        lsh %r0, 16
        ldxw %r1, [%r6+24]
        or %r0, %r1
        out:
        exit
        """;

    [Theory]
    [InlineData(false, 0x0081L, 100L, (ushort)0x8100, (ushort)100)]
    [InlineData(true, 0x0081L, 100L, (ushort)0x8100, (ushort)100)]
    [InlineData(false, 0xa888L, 0xfffL, (ushort)0x88a8, (ushort)0xfff)]
    [InlineData(true, 0xa888L, 0xfffL, (ushort)0x88a8, (ushort)0xfff)]
    [InlineData(false, 0x0008L, 7L, (ushort)0x8100, (ushort)7)]            // not a VLAN proto: 802.1Q
    [InlineData(true, 0x0008L, 7L, (ushort)0x8100, (ushort)7)]
    [InlineData(false, 0x70000a888L, 0x5000e123L, (ushort)0x88a8, (ushort)0xe123)] // only the low 16 bits count
    [InlineData(true, 0x70000a888L, 0x5000e123L, (ushort)0x88a8, (ushort)0xe123)]
    public void APushOnAnUntaggedFrameOffloadsTheTag(bool jit, long proto, long tci, ushort expectedProto, ushort expectedTci)
    {
        var (r, packet) = Run(PushAndRead(proto, tci), jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(1UL << 32 | (ulong)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(expectedProto) << 16 | expectedTci, r.R0);
        Assert.True(packet.VlanPresent);
        Assert.Equal(expectedProto, packet.VlanProto);
        Assert.Equal(expectedTci, packet.VlanTci);
        Assert.Equal(Frame, packet.Data.ToArray());
    }

    /// <summary>Pushes 802.1Q tag 42 and sets r1 to the context again for the next helper.</summary>
    private const string PushFirst = """
        mov %r6, %r1
        mov %r2, 0x0081
        mov %r3, 42
        call 18
        mov %r1, %r6

        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHelperAfterThePushSeesTheTag(bool jit)
    {
        // push, then pop: the pop finds the offloaded tag (the VM gave it to the packet first) and clears it.
        var (r, packet) = Run(PushFirst + """
            call 19
            ldxw %r0, [%r6+20]
            exit
            """, jit);
        Assert.Equal(0UL, r.R0);
        Assert.False(packet.VlanPresent);
        Assert.Equal(Frame, packet.Data.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASecondPushMovesTheFirstTagIntoTheFrame(bool jit)
    {
        var (r, packet) = Run(PushFirst + """
            mov %r2, 0xa888
            mov %r3, 7
            call 18
            exit
            """, jit);
        Assert.Equal(0UL, r.R0);
        Assert.True(packet.VlanPresent);
        Assert.Equal((ushort)0x88a8, packet.VlanProto);
        Assert.Equal((ushort)7, packet.VlanTci);
        byte[] expected = [.. Frame[..12], 0x81, 0x00, 0, 42, .. Frame[12..]];
        Assert.Equal(expected, packet.Data.ToArray());
    }
}
