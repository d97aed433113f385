using System.Buffers.Binary;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_skb_store_bytes (9), bpf_l3_csum_replace (10) and bpf_l4_csum_replace (11), which the JIT does in
/// the code when they succeed (see JitLowering.InlinePacketCopy / InlineChecksumReplace) and leaves to the helper
/// otherwise. Each case runs on both engines; expected bytes come from the frame, and expected checksums from a
/// full RFC 1071 recomputation or RFC 1624's 16-bit update, not from the engine's checksum code. The arm64 code
/// runs the same helpers in the random differential under qemu (Arm64JitTests).</summary>
public sealed class InlinePacketWriteTests
{
    private const int IpOffset = 14, IpChecksumOffset = IpOffset + 10, DaddrOffset = IpOffset + 16, UdpChecksumOffset = IpOffset + 20 + 6;
    private const ulong PseudoHeader = 0x10, MarkMangled0 = 0x20;
    private static readonly byte[] OldDaddr = [10, 0, 0, 2], NewDaddr = [10, 0, 0, 9];

    /// <summary>The test support's Ethernet/IPv4/UDP frame with a payload and a valid UDP checksum over the pseudo header.</summary>
    private static byte[] UdpFrame(bool withChecksum = true)
    {
        var f = VmTestSupport.Ipv4UdpFrame();
        for (int i = IpOffset + 28; i < f.Length; i++) f[i] = (byte)(i * 13 + 5);
        if (withChecksum)
        {
            ushort sum = UdpChecksum(f);
            Assert.NotEqual(0, sum);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(UdpChecksumOffset), sum);
            Assert.Equal(0, UdpChecksum(f));
        }
        return f;
    }

    /// <summary>RFC 1071 over the pseudo header and the UDP segment (checksum field included: 0 when valid).</summary>
    private static ushort UdpChecksum(byte[] frame)
    {
        int udpLength = frame.Length - IpOffset - 20;
        var pseudo = new byte[12 + udpLength];
        frame.AsSpan(IpOffset + 12, 8).CopyTo(pseudo);
        pseudo[9] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)udpLength);
        frame.AsSpan(IpOffset + 20, udpLength).CopyTo(pseudo.AsSpan(12));
        return VmTestSupport.IpChecksum(pseudo);
    }

    /// <summary>RFC 1624 eqn. 3 in 16-bit words: HC' = ~(~HC + ~m + m') for a 4-byte field change m → m'.</summary>
    private static ushort Rfc1624(ushort checksum, byte[] from, byte[] to)
    {
        uint sum = (ushort)~checksum;
        for (int i = 0; i < 4; i += 2)
            sum += (ushort)~BinaryPrimitives.ReadUInt16BigEndian(from.AsSpan(i)) + (uint)BinaryPrimitives.ReadUInt16BigEndian(to.AsSpan(i));
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    private static int Le(byte[] bytes) => BinaryPrimitives.ReadInt32LittleEndian(bytes);

    /// <summary>Destination NAT as rewrite.bpf.c does it: the L4 checksum (pseudo header), the L3 checksum, then the
    /// address store; r0 = the first helper result that is not 0 (or 0).</summary>
    private static string Dnat(ulong l4Flags) => $"""
        mov %r6, %r1
        stw [%r10-4], {Le(NewDaddr)}
        ldxw %r7, [%r10-4]
        mov %r1, %r6
        mov %r2, {UdpChecksumOffset}
        mov %r3, {Le(OldDaddr)}
        mov %r4, %r7
        mov %r5, {l4Flags}
        call 11
        jne %r0, 0, out
        mov %r1, %r6
        mov %r2, {IpChecksumOffset}
        mov %r3, {Le(OldDaddr)}
        mov %r4, %r7
        mov %r5, 4
        call 10
        jne %r0, 0, out
        mov %r1, %r6
        mov %r2, {DaddrOffset}
        mov %r3, %r10
        add %r3, -4
        mov %r4, 4
        mov %r5, 0
        call 9
        out:
        exit
        """;

    /// <summary>One call of helper <paramref name="helper"/> (10: l3, 11: l4) for the field at <paramref name="offset"/>
    /// and the address change <see cref="OldDaddr"/> → <see cref="NewDaddr"/>; r0 = its result.</summary>
    private static string ChecksumReplace(int helper, long offset, ulong flags) => $"""
        mov %r2, {offset}
        mov %r3, {Le(OldDaddr)}
        mov %r4, {Le(NewDaddr)}
        mov %r5, {flags}
        call {helper}
        exit
        """;

    private static (BpfRunResult Run, byte[] Frame, uint Hash) Run(string text, byte[] frame, bool jit, uint hash = 0)
    {
        var program = VmTestSupport.Load(text);
        if (jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(frame);
        packet.Hash = hash;
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(program, ref packet);
        return (r, packet.Data.ToArray(), packet.Hash);
    }

    [Theory]
    [InlineData(false, PseudoHeader | 4)]
    [InlineData(true, PseudoHeader | 4)]
    [InlineData(false, PseudoHeader | MarkMangled0 | 4)]
    [InlineData(true, PseudoHeader | MarkMangled0 | 4)]
    public void DestinationNatLeavesBothChecksumsValid(bool jit, ulong l4Flags)
    {
        var frame = UdpFrame();
        var (r, after, _) = Run(Dnat(l4Flags), frame, jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(NewDaddr, after[DaddrOffset..(DaddrOffset + 4)]);
        Assert.Equal(0, VmTestSupport.IpChecksum(after.AsSpan(IpOffset, 20)));
        Assert.Equal(0, UdpChecksum(after));
        var expected = (byte[])frame.Clone();
        NewDaddr.CopyTo(expected, DaddrOffset);
        after.AsSpan(IpChecksumOffset, 2).CopyTo(expected.AsSpan(IpChecksumOffset));
        after.AsSpan(UdpChecksumOffset, 2).CopyTo(expected.AsSpan(UdpChecksumOffset));
        Assert.Equal(expected, after);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void AUdpChecksumOfZeroStaysZeroOnlyWithMarkMangled0(bool jit, bool mangled0)
    {
        var frame = UdpFrame(withChecksum: false);
        var (r, after, _) = Run(Dnat(PseudoHeader | (mangled0 ? MarkMangled0 : 0) | 4), frame, jit);
        Assert.Equal(0UL, r.R0);
        ushort field = BinaryPrimitives.ReadUInt16BigEndian(after.AsSpan(UdpChecksumOffset));
        Assert.Equal(mangled0 ? (ushort)0 : Rfc1624(0, OldDaddr, NewDaddr), field);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void AResultOfZeroIsStoredAs0xffffWithMarkMangled0(bool jit, bool mangled0)
    {
        // A checksum whose update gives 0 (RFC 1624): with BPF_F_MARK_MANGLED_0 it becomes CSUM_MANGLED_0.
        ushort start = Enumerable.Range(1, 0xfffe).Select(c => (ushort)c).First(c => Rfc1624(c, OldDaddr, NewDaddr) == 0);
        var frame = UdpFrame();
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(UdpChecksumOffset), start);
        var (r, after, _) = Run(Dnat(PseudoHeader | (mangled0 ? MarkMangled0 : 0) | 4), frame, jit);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(mangled0 ? (ushort)0xffff : (ushort)0, BinaryPrimitives.ReadUInt16BigEndian(after.AsSpan(UdpChecksumOffset)));
    }

    [Theory]
    [InlineData(false, 4UL, 0UL)]
    [InlineData(true, 4UL, 0UL)]
    [InlineData(false, 8UL, 22UL)]  // size 8: -EINVAL
    [InlineData(true, 8UL, 22UL)]
    [InlineData(false, 0x14UL, 22UL)] // BPF_F_PSEUDO_HDR is an l4 flag: -EINVAL for l3
    [InlineData(true, 0x14UL, 22UL)]
    public void L3FlagsOtherThanAFieldSizeAreRefused(bool jit, ulong flags, ulong errno)
    {
        var frame = UdpFrame();
        var (r, after, _) = Run(ChecksumReplace(10, IpChecksumOffset, flags), frame, jit);
        Assert.Equal(unchecked((ulong)-(long)errno), r.R0);
        ushort expected = errno == 0 ? Rfc1624(BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(IpChecksumOffset)), OldDaddr, NewDaddr)
            : BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(IpChecksumOffset));
        Assert.Equal(expected, BinaryPrimitives.ReadUInt16BigEndian(after.AsSpan(IpChecksumOffset)));
    }

    [Theory]
    [InlineData(false, 25, 10)]  // odd
    [InlineData(true, 25, 10)]
    [InlineData(false, 63, 11)]  // the field would end past the packet
    [InlineData(true, 63, 11)]
    [InlineData(false, 64, 10)]
    [InlineData(true, 64, 10)]
    [InlineData(false, 0x10018, 11)] // above 0xffff
    [InlineData(true, 0x10018, 11)]
    public void AChecksumFieldOutsideThePacketOrOddFailsWithEfault(bool jit, long offset, int helper)
    {
        var frame = UdpFrame();
        var (r, after, _) = Run(ChecksumReplace(helper, offset, 4), frame, jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(unchecked((ulong)-14L), r.R0);
        Assert.Equal(frame, after);
    }

    [Theory]
    [InlineData(false, 0, 1)]
    [InlineData(true, 0, 1)]
    [InlineData(false, 3, 7)]
    [InlineData(true, 3, 7)]
    [InlineData(false, 6, 16)]
    [InlineData(true, 6, 16)]
    [InlineData(false, 33, 31)]
    [InlineData(true, 33, 31)]
    [InlineData(false, 32, 32)]
    [InlineData(true, 32, 32)]
    public void StoredBytesLandInThePacketAndNothingElseChanges(bool jit, int offset, int length)
    {
        var frame = UdpFrame();
        var (r, after, _) = Run(StoreFromStack(offset, length, flags: 1), frame, jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        var expected = (byte[])frame.Clone();
        StackBytes().AsSpan(32 - length, length).CopyTo(expected.AsSpan(offset));
        Assert.Equal(expected, after);
    }

    /// <summary>The 32 bytes at r10-32 (written by <see cref="StoreFromStack"/>), lowest address first.</summary>
    private static byte[] StackBytes() => Enumerable.Range(0, 32).Select(i => (byte)(0xC0 + i)).ToArray();

    /// <summary>Writes <see cref="StackBytes"/> to r10-32 and stores the last <paramref name="length"/> of them at
    /// <paramref name="offset"/> of the packet.</summary>
    private static string StoreFromStack(long offset, long length, ulong flags)
    {
        var stack = StackBytes();
        var lines = Enumerable.Range(0, 4).Select(w => $"lddw %r2, 0x{BinaryPrimitives.ReadUInt64LittleEndian(stack.AsSpan(8 * w)):x}\nstxdw [%r10-{32 - 8 * w}], %r2");
        return $"""
            {string.Join('\n', lines)}
            mov %r2, {offset}
            mov %r3, %r10
            add %r3, -{length}
            mov %r4, {length}
            mov %r5, {flags}
            call 9
            exit
            """;
    }

    [Theory]
    [InlineData(false, 60, 8, 0UL, 14UL)]  // past the end: -EFAULT
    [InlineData(true, 60, 8, 0UL, 14UL)]
    [InlineData(false, 0x7fffffff, 1, 0UL, 14UL)]
    [InlineData(true, 0x7fffffff, 1, 0UL, 14UL)]
    [InlineData(false, 0, 4, 4UL, 22UL)]    // an unknown flag: -EINVAL
    [InlineData(true, 0, 4, 4UL, 22UL)]
    public void AStoreThatFailsLeavesThePacketAlone(bool jit, long offset, long length, ulong flags, ulong errno)
    {
        var frame = UdpFrame();
        var (r, after, _) = Run(StoreFromStack(offset, length, flags), frame, jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(unchecked((ulong)-(long)errno), r.R0);
        Assert.Equal(frame, after);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BpfFInvalidateHashClearsThePacketsHash(bool jit)
    {
        var frame = UdpFrame();
        var (r, after, hash) = Run(StoreFromStack(2, 4, flags: 2), frame, jit, hash: 0x1234);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(0u, hash);
        Assert.Equal(StackBytes()[28..], after[2..6]);
        var (_, _, kept) = Run(StoreFromStack(2, 4, flags: 0), frame, jit, hash: 0x1234);
        Assert.Equal(0x1234u, kept);
    }
}
