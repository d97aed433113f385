using System.Runtime.InteropServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>The <c>__sk_buff</c> a program sees: clang's 32-bit data/data_end loads give usable pointers,
/// fields read as the kernel lays them out, and writable fields travel back into the packet.</summary>
public sealed unsafe class SkBuffContextTests
{
    private const string EtherTypeProgram = """
        ldxw %r2, [%r1+76]
        ldxw %r3, [%r1+80]
        mov %r4, %r2
        add %r4, 14
        jgt %r4, %r3, drop
        ldxh %r0, [%r2+12]
        be16 %r0
        exit
        drop:
        mov %r0, 2
        exit
        """;

    [Fact]
    public void ThirtyTwoBitDataLoadsAreUsablePointers()
    {
        var r = VmTestSupport.Run(EtherTypeProgram, VmTestSupport.Ipv4UdpFrame());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0x0800UL, r.R0);
        // A frame shorter than an Ethernet header takes the bounds-check branch.
        Assert.Equal(2UL, VmTestSupport.Run(EtherTypeProgram, new byte[10]).R0);
    }

    [Fact]
    public void WorksOnAFrameInUnmanagedMemory()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        byte* buffer = (byte*)NativeMemory.AllocZeroed(2048);
        try
        {
            frame.CopyTo(new Span<byte>(buffer + 256, frame.Length));
            var packet = default(PacketContext);
            packet.Reset(buffer, 2048, 256, frame.Length);
            var r = VmTestSupport.Run(VmTestSupport.Load(EtherTypeProgram), ref packet);
            Assert.Equal(0x0800UL, r.R0);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Fact]
    public void FieldsReadWithTheKernelLayout()
    {
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        packet.Ifindex = 7;
        packet.IngressIfindex = 3;
        packet.Mark = 0xabc;
        packet.Cb[2] = 99;
        var program = VmTestSupport.Load("""
            ldxw %r0, [%r1+0]
            ldxw %r2, [%r1+16]
            lsh %r2, 16
            or %r0, %r2
            ldxw %r2, [%r1+40]
            lsh %r2, 32
            or %r0, %r2
            ldxw %r2, [%r1+36]
            lsh %r2, 40
            or %r0, %r2
            exit
            """);
        var r = VmTestSupport.Run(program, ref packet);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(64UL, r.R0 & 0xffff);                   // len
        Assert.Equal(0x0008UL, (r.R0 >> 16) & 0xffff);       // protocol in network byte order
        Assert.Equal(7UL, (r.R0 >> 32) & 0xff);              // ifindex
        Assert.Equal(3UL, r.R0 >> 40);                       // ingress_ifindex
        Assert.Equal(99UL, VmTestSupport.Run(VmTestSupport.Load("ldxw %r0, [%r1+56]\nexit"), ref packet).R0);
        Assert.Equal(0xabcUL, VmTestSupport.Run(VmTestSupport.Load("ldxw %r0, [%r1+8]\nexit"), ref packet).R0);
    }

    [Fact]
    public void WritableFieldsTravelBackIntoThePacket()
    {
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        var program = VmTestSupport.Load("""
            stw [%r1+8], 0x1234
            stw [%r1+32], 6
            stw [%r1+44], 9
            stw [%r1+48], 1
            stw [%r1+64], 5
            mov %r0, 0
            exit
            """);
        var r = VmTestSupport.Run(program, ref packet);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0x1234u, packet.Mark);
        Assert.Equal(6u, packet.Priority);
        Assert.Equal(9u, packet.TcIndex);
        Assert.Equal(1u, packet.Cb[0]);
        Assert.Equal(5u, packet.Cb[4]);
    }
}
