using System.Buffers.Binary;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Helpers;

/// <summary>Packet-reading, -writing and -resizing helpers and the checksum helpers, on real frames.</summary>
public sealed class PacketHelperTests
{
    [Fact]
    public void L3CsumReplaceKeepsTheIpChecksumValid()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        var packet = VmTestSupport.Packet(frame);
        var program = VmTestSupport.Load("""
            mov %r6, %r1
            ldxw %r2, [%r6+76]
            ldxw %r3, [%r6+80]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, out
            ldxw %r7, [%r2+30]
            mov32 %r8, 0x0101a8c0
            stxw [%r2+30], %r8
            mov %r1, %r6
            mov %r2, 24
            mov %r3, %r7
            mov %r4, %r8
            mov %r5, 4
            call 10
            exit
            out:
            mov %r0, 1
            exit
            """);
        var r = VmTestSupport.Run(program, ref packet);
        Assert.Equal(0UL, r.R0);
        var ip = packet.Data.Slice(14, 20);
        Assert.Equal(new byte[] { 192, 168, 1, 1 }, ip.Slice(16, 4).ToArray());
        Assert.Equal(0, VmTestSupport.IpChecksum(ip));
    }

    [Fact]
    public void CsumDiffFeedsL3ReplaceByDiff()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        var packet = VmTestSupport.Packet(frame);
        // Change the source address with a direct write, fix the checksum with csum_diff + l3_csum_replace(size 0).
        var program = VmTestSupport.Load("""
            mov %r6, %r1
            ldxw %r2, [%r6+76]
            ldxw %r3, [%r6+80]
            mov %r4, %r2
            add %r4, 34
            jgt %r4, %r3, out
            ldxw %r7, [%r2+26]
            stxw [%r10-8], %r7
            mov32 %r8, 0x0a0a0a0a
            stxw [%r10-4], %r8
            stxw [%r2+26], %r8
            mov %r1, %r10
            add %r1, -8
            mov %r2, 4
            mov %r3, %r10
            add %r3, -4
            mov %r4, 4
            mov %r5, 0
            call 28
            mov %r4, %r0
            mov %r1, %r6
            mov %r2, 24
            mov %r3, 0
            mov %r5, 0
            call 10
            exit
            out:
            mov %r0, 1
            exit
            """);
        Assert.Equal(0UL, VmTestSupport.Run(program, ref packet).R0);
        Assert.Equal(new byte[] { 10, 10, 10, 10 }, packet.Data.Slice(26, 4).ToArray());
        Assert.Equal(0, VmTestSupport.IpChecksum(packet.Data.Slice(14, 20)));
    }

    [Fact]
    public void ChecksumPrimitivesMatchAFullRecomputation()
    {
        var random = new Random(7);
        for (int n = 0; n < 200; n++)
        {
            byte[] header = new byte[20];
            random.NextBytes(header);
            header[10] = header[11] = 0;
            ushort sum = VmTestSupport.IpChecksum(header);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), sum);
            int word = random.Next(0, 5);
            if (word == 2) continue;
            uint from = BitConverter.ToUInt32(header, word * 4);
            uint to = (uint)random.Next();
            BitConverter.TryWriteBytes(header.AsSpan(word * 4), to);
            ushort stored = BitConverter.ToUInt16(header, 10);
            BitConverter.TryWriteBytes(header.AsSpan(10), InternetChecksum.Replace4(stored, from, to));
            Assert.Equal(0, VmTestSupport.IpChecksum(header));
            // 16-bit replace of the first half-word.
            ushort from16 = BitConverter.ToUInt16(header, 0), to16 = (ushort)random.Next(0, 65536);
            BitConverter.TryWriteBytes(header.AsSpan(0), to16);
            BitConverter.TryWriteBytes(header.AsSpan(10), InternetChecksum.Replace2(BitConverter.ToUInt16(header, 10), from16, to16));
            Assert.Equal(0, VmTestSupport.IpChecksum(header));
        }
    }

    [Fact]
    public void L4CsumReplaceLeavesAZeroUdpChecksumAloneWithMangled0()
    {
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        var r = VmTestSupport.Run(VmTestSupport.Load("mov %r2, 40\nmov %r3, 1\nmov %r4, 2\nmov %r5, 0x24\ncall 11\nexit"), ref packet);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(packet.Data[40..]));
        // Odd offsets and offsets past the packet are refused like the kernel (-EFAULT).
        Assert.Equal(-14L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 41\nmov %r3, 1\nmov %r4, 2\nmov %r5, 2\ncall 11\nexit"), ref packet).R0);
        Assert.Equal(-14L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 64\nmov %r3, 1\nmov %r4, 2\nmov %r5, 2\ncall 10\nexit"), ref packet).R0);
        Assert.Equal(-22L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 24\nmov %r3, 1\nmov %r4, 2\nmov %r5, 3\ncall 10\nexit"), ref packet).R0);
    }

    [Fact]
    public void LoadAndStoreBytes()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        var packet = VmTestSupport.Packet(frame);
        var r = VmTestSupport.Run(VmTestSupport.Load("""
            mov %r6, %r1
            mov %r2, 26
            mov %r3, %r10
            add %r3, -8
            mov %r4, 8
            call 26
            ldxdw %r7, [%r10-8]
            mov %r1, %r6
            mov %r2, 0
            mov %r3, %r10
            add %r3, -8
            mov %r4, 8
            mov %r5, 0
            call 9
            mov %r0, %r7
            exit
            """), ref packet);
        Assert.Equal(BitConverter.ToUInt64(frame, 26), r.R0);
        Assert.Equal(frame.AsSpan(26, 8).ToArray(), packet.Data[..8].ToArray());
        // Past the end: -EFAULT and the destination is zeroed.
        var past = VmTestSupport.Run("stdw [%r10-8], -1\nmov %r2, 60\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 26\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit", frame);
        Assert.Equal(-14L, (long)past.R0);
    }

    [Fact]
    public void ChangeHeadPushesZeroedBytesAndMovesData()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        var packet = VmTestSupport.Packet(frame);
        var r = VmTestSupport.Run(VmTestSupport.Load("""
            mov %r6, %r1
            mov %r2, 4
            mov %r3, 0
            call 43
            jne %r0, 0, out
            ldxw %r2, [%r6+76]
            ldxw %r3, [%r6+80]
            mov %r0, %r3
            sub %r0, %r2
            out:
            exit
            """), ref packet);
        Assert.Equal(68UL, r.R0);
        Assert.Equal(68, packet.Length);
        Assert.Equal(60, packet.DataOffset);
        Assert.Equal(new byte[4], packet.Data[..4].ToArray());
        Assert.Equal(frame, packet.Data[4..].ToArray());
        // More than the headroom but the tailroom has space: the packet moves inside its buffer.
        var shifted = VmTestSupport.Packet(frame, headroom: 2, tailroom: 8);
        Assert.Equal(0L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 4\nmov %r3, 0\ncall 43\nexit"), ref shifted).R0);
        Assert.Equal(68, shifted.Length);
        Assert.Equal(frame, shifted.Data[4..].ToArray());
        // More than head- and tailroom together: -ENOMEM, nothing changes.
        var small = VmTestSupport.Packet(frame, headroom: 2, tailroom: 1);
        Assert.Equal(-12L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 4\nmov %r3, 0\ncall 43\nexit"), ref small).R0);
        Assert.Equal(64, small.Length);
    }

    [Fact]
    public void ShrinkingInvalidatesOldPacketPointers()
    {
        var r = VmTestSupport.Run("mov %r6, %r1\nldxw %r7, [%r1+76]\nmov %r2, 20\nmov %r3, 0\ncall 38\nldxb %r0, [%r7+30]\nexit", VmTestSupport.Ipv4UdpFrame());
        Assert.Equal(BpfFault.OutOfBounds, r.Fault);
        var grow = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("mov %r2, 100\nmov %r3, 0\ncall 38\nexit"), ref grow).R0);
        Assert.Equal(100, grow.Length);
        Assert.All(grow.Data[64..].ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void AdjustRoomInsertsAfterTheMacOrNetworkHeader()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        var mac = VmTestSupport.Packet(frame);
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("mov %r2, 8\nmov %r3, 1\nmov %r4, 0\ncall 50\nexit"), ref mac).R0);
        Assert.Equal(72, mac.Length);
        Assert.Equal(frame[..14], mac.Data[..14].ToArray());
        Assert.Equal(new byte[8], mac.Data.Slice(14, 8).ToArray());
        Assert.Equal(frame[14..], mac.Data[22..].ToArray());

        var net = VmTestSupport.Packet(frame);
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("mov %r2, -8\nmov %r3, 0\nmov %r4, 0\ncall 50\nexit"), ref net).R0);
        Assert.Equal(56, net.Length);
        Assert.Equal(frame[..34], net.Data[..34].ToArray());
        Assert.Equal(frame[42..], net.Data[34..].ToArray());

        var arp = VmTestSupport.Packet(frame);
        arp.Protocol = 0x0806;
        Assert.Equal(-524L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 8\nmov %r3, 1\nmov %r4, 0\ncall 50\nexit"), ref arp).R0);
    }

    [Fact]
    public void VlanPushAndPop()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        var packet = VmTestSupport.Packet(frame);
        const string push = "mov %r2, 0x81\nmov %r3, TCI\ncall 18\nexit";
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load(push.Replace("TCI", "100")), ref packet).R0);
        Assert.True(packet.VlanPresent);
        Assert.Equal((ushort)100, packet.VlanTci);
        Assert.Equal((ushort)0x8100, packet.VlanProto);
        Assert.Equal(frame, packet.Data.ToArray()); // offloaded: bytes unchanged

        // A second push writes the first tag into the frame.
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load(push.Replace("TCI", "200")), ref packet).R0);
        Assert.Equal(68, packet.Length);
        Assert.Equal(new byte[] { 0x81, 0x00, 0x00, 100 }, packet.Data.Slice(12, 4).ToArray());
        Assert.Equal((ushort)0x8100, packet.Protocol);
        Assert.Equal((ushort)200, packet.VlanTci);

        // Pop clears the offloaded tag and moves the in-band one into the offload slot.
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("call 19\nexit"), ref packet).R0);
        Assert.True(packet.VlanPresent);
        Assert.Equal((ushort)100, packet.VlanTci);
        Assert.Equal(frame, packet.Data.ToArray());
        Assert.Equal((ushort)0x0800, packet.Protocol);
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("call 19\nexit"), ref packet).R0);
        Assert.False(packet.VlanPresent);
    }

    [Fact]
    public void HashRecalcIsStableAndNonZero()
    {
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        var program = VmTestSupport.Load("call 34\nexit");
        ulong h1 = VmTestSupport.Run(program, ref packet).R0;
        var other = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        Assert.NotEqual(0UL, h1);
        Assert.Equal(h1, VmTestSupport.Run(program, ref other).R0);
        Assert.Equal((uint)h1, packet.Hash);
    }
}

/// <summary>The smaller metadata helpers.</summary>
public sealed class PacketMetadataHelperTests
{
    [Fact]
    public void LoadBytesRelativeCountsFromTheChosenHeader()
    {
        byte[] frame = VmTestSupport.Ipv4UdpFrame();
        const string program = "mov %r2, 12\nmov %r3, %r10\nadd %r3, -4\nmov %r4, 4\nmov %r5, START\ncall 68\njne %r0, 0, out\nldxw %r0, [%r10-4]\nout:\nexit";
        Assert.Equal(BitConverter.ToUInt32(frame, 12), VmTestSupport.Run(program.Replace("START", "0"), frame).R0);
        Assert.Equal(BitConverter.ToUInt32(frame, 26), VmTestSupport.Run(program.Replace("START", "1"), frame).R0);
        Assert.Equal(-14L, (long)VmTestSupport.Run(program.Replace("START", "2"), frame).R0);
    }

    [Fact]
    public void ChangeTypeHashAndPullData()
    {
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("mov %r6, %r1\nmov %r2, 3\ncall 32\nldxw %r0, [%r6+4]\nsub %r0, 3\nexit"), ref packet).R0);
        Assert.Equal(3u, packet.PacketType);
        Assert.Equal(-22L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 4\ncall 32\nexit"), ref packet).R0);
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("mov %r6, %r1\nmov %r2, 77\ncall 48\nldxw %r0, [%r6+68]\nsub %r0, 77\nexit"), ref packet).R0);
        Assert.Equal(77u, packet.Hash);
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("call 41\nexit"), ref packet).R0);
        Assert.Equal(0u, packet.Hash);
        Assert.Equal(0UL, VmTestSupport.Run(VmTestSupport.Load("mov %r2, 64\ncall 39\nexit"), ref packet).R0);
        Assert.Equal(-12L, (long)VmTestSupport.Run(VmTestSupport.Load("mov %r2, 65\ncall 39\nexit"), ref packet).R0);
        ulong jiffies = VmTestSupport.Run("call 118\nexit").R0, ns = VmTestSupport.Run("call 125\nexit").R0;
        Assert.InRange(jiffies, ns / 4_000_000 - 250, ns / 4_000_000);
    }
}
