using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>One VM runs many programs in turn (a worker runs every tenant's chain): nothing a run leaves may reach the
/// next. Compiled code's straight path (no runtime call) skips resetting what only runtime calls change, and writes the
/// packet's managed region only at its first runtime call; these runs alternate such runs with runs that change that
/// state (a helper's result, a fault, a bigger packet) and compare each with a fresh VM's run of the same program.</summary>
public sealed class RunStateTests
{
    /// <summary>bpf_csum_level(skb, BPF_CSUM_LEVEL_INC): leaves the VM's checksum level at 0; r0 = 7.</summary>
    private const string RaisesChecksumLevel = """
        mov %r2, 1
        call 135
        mov %r0, 7
        exit
        """;

    /// <summary>r0 = skb->len: no runtime call.</summary>
    private const string ReadsLength = """
        ldxw %r0, [%r1+0]
        exit
        """;

    /// <summary>r0 = the packet's byte at offset 1000, with no bounds check the verifier could use: compiled code checks
    /// it at run time, the interpreter translates it; on a shorter packet the run faults.</summary>
    private const string ReadsByte1000 = """
        ldxw %r2, [%r1+76]
        ldxb %r0, [%r2+1000]
        exit
        """;

    /// <summary>bpf_skb_pull_data(skb, 0): a helper that maps the packet again (the VM's own table), then r0 = 1.</summary>
    private const string PullsData = """
        mov %r2, 0
        call 39
        mov %r0, 1
        exit
        """;

    /// <summary>Mixes the fields a tc program reads most (mark, ifindex, cb[0], cb[4], len, protocol, vlan_present,
    /// hash, tstamp) into r0 with no runtime call: a compiled run writes only these into the shadow.</summary>
    private const string ReadsMetadata = """
        ldxw %r0, [%r1+8]
        ldxw %r2, [%r1+40]
        lsh %r2, 8
        xor %r0, %r2
        ldxw %r2, [%r1+48]
        lsh %r2, 16
        xor %r0, %r2
        ldxw %r2, [%r1+64]
        lsh %r2, 20
        xor %r0, %r2
        ldxw %r2, [%r1+0]
        lsh %r2, 24
        xor %r0, %r2
        ldxw %r2, [%r1+16]
        lsh %r2, 32
        xor %r0, %r2
        ldxw %r2, [%r1+20]
        lsh %r2, 40
        xor %r0, %r2
        ldxw %r2, [%r1+68]
        lsh %r2, 44
        xor %r0, %r2
        ldxdw %r2, [%r1+152]
        xor %r0, %r2
        exit
        """;

    /// <summary>bpf_skb_vlan_push(skb, 802.1Q, 100); r0 = its result. Compiled code pushes a frame without an offloaded
    /// tag itself (it reads the shadow's vlan_present for that, and nothing else of the context); a frame with one goes
    /// to the helper, which moves that tag into the frame's bytes first.</summary>
    private const string PushesVlan = """
        mov %r2, 0x81
        mov %r3, 100
        call 18
        exit
        """;

    private static byte[] Frame(int length)
    {
        var frame = new byte[length];
        for (int i = 0; i < length; i++) frame[i] = (byte)(i * 7 + 3);
        return frame;
    }

    private static BpfRunResult Fresh(LoadedProgram program, byte[] frame, bool jit, out int checksumLevel)
    {
        var packet = VmTestSupport.Packet(frame);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(program, ref packet);
        checksumLevel = vm.ChecksumLevel;
        return r;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHelpersResultDoesNotReachTheNextRun(bool jit)
    {
        var raise = VmTestSupport.LoadFor(RaisesChecksumLevel, jit);
        var read = VmTestSupport.LoadFor(ReadsLength, jit);
        var frame = Frame(100);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        for (int round = 0; round < 3; round++)
        {
            var packet = VmTestSupport.Packet(frame);
            var r = vm.Run(raise, ref packet);
            Assert.Equal(7UL, r.R0);
            Assert.Equal(0, vm.ChecksumLevel); // from CHECKSUM_NONE, once per run: not 1, 2, 3 over the rounds

            for (int i = 0; i < 2; i++)
            {
                packet = VmTestSupport.Packet(frame);
                r = vm.Run(read, ref packet);
                var expected = Fresh(read, frame, jit, out int freshLevel);
                Assert.Equal(expected.R0, r.R0);
                Assert.Equal(100UL, r.R0);
                Assert.Equal(BpfFault.None, r.Fault);
                Assert.Equal(freshLevel, vm.ChecksumLevel);
                Assert.Equal(BpfVm.ChecksumNone, vm.ChecksumLevel);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AShorterPacketAfterALongerOneFaultsWhereItEnds(bool jit)
    {
        var program = VmTestSupport.LoadFor(ReadsByte1000, jit);
        var read = VmTestSupport.LoadFor(ReadsLength, jit);
        var pull = VmTestSupport.LoadFor(PullsData, jit);
        var longFrame = Frame(1500);
        var shortFrame = Frame(200);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        for (int round = 0; round < 3; round++)
        {
            var packet = VmTestSupport.Packet(longFrame);
            var r = vm.Run(program, ref packet);
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal((ulong)longFrame[1000], r.R0);
            packet = VmTestSupport.Packet(longFrame);
            Assert.Equal(1UL, vm.Run(pull, ref packet).R0); // the long packet in the VM's own table too

            // The same program on a packet that ends before byte 1000: a fault, as on a fresh VM, never the byte of
            // the packet before.
            packet = VmTestSupport.Packet(shortFrame);
            r = vm.Run(program, ref packet);
            var expected = Fresh(program, shortFrame, jit, out _);
            Assert.Equal(BpfFault.OutOfBounds, expected.Fault);
            Assert.Equal(expected.Fault, r.Fault);
            Assert.Equal(expected.FaultInstruction, r.FaultInstruction);

            // After the fault, a run without runtime calls: no fault, its own result.
            packet = VmTestSupport.Packet(shortFrame);
            r = vm.Run(read, ref packet);
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal(200UL, r.R0);
        }
    }

    /// <summary>The same program run after run (a chain's common case: the VM's shortest entry, see BpfVm.RunStraight
    /// for compiled code): each run sees its own packet, faults where a fresh VM faults, and the run after a fault, or
    /// after the VM forgot its programs (a reload), is again a fresh VM's.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheSameProgramRunAfterRunSeesOnlyItsOwnPacket(bool jit)
    {
        var program = VmTestSupport.LoadFor(ReadsByte1000, jit);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        // One buffer for every frame, as a port's UMEM: frames in its chunks, in turn.
        const int Chunk = 2048, Chunks = 4, Headroom = 256;
        var umem = new byte[Chunk * Chunks];
        int[] lengths = [1500, 1500, 200, 200, 1200, 1300, 1001, 1000, 1400, 1500];
        for (int n = 0; n < lengths.Length; n++)
        {
            if (n == 6) vm.ForgetPrograms();
            var frame = Frame(lengths[n]);
            frame[Math.Min(1000, frame.Length - 1)] ^= (byte)(n + 1); // a byte 1000 each run's own
            int chunk = n % Chunks * Chunk;
            Array.Clear(umem, chunk, Chunk);
            frame.CopyTo(umem, chunk + Headroom);
            var packet = Appliance.Bpf.Context.PacketContext.FromArray(umem, chunk, Chunk, Headroom, frame.Length);
            var r = vm.Run(program, ref packet);
            var expected = Fresh(program, frame, jit, out _);
            Assert.Equal(expected.Fault, r.Fault);
            Assert.Equal(expected.R0, r.R0);
            Assert.Equal(lengths[n] > 1000 ? BpfFault.None : BpfFault.OutOfBounds, r.Fault);
            if (r.Fault == BpfFault.None) Assert.Equal((ulong)frame[1000], r.R0);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EachRunReadsItsOwnPacketsMetadata(bool jit)
    {
        var program = VmTestSupport.LoadFor(ReadsMetadata, jit);
        var raise = VmTestSupport.LoadFor(RaisesChecksumLevel, jit);
        Appliance.Bpf.Context.PacketContext Make(int n)
        {
            var packet = VmTestSupport.Packet(Frame(60 + n));
            packet.Mark = 0x100u * (uint)n + 1;
            packet.Ifindex = (uint)n + 3;
            packet.Cb[0] = 0x7000u + (uint)n;
            packet.Cb[4] = 0x90u + (uint)n;
            packet.Protocol = (ushort)(0x0800 + n);
            packet.VlanPresent = n % 2 == 1;
            packet.Hash = 0xabc0u + (uint)n;
            packet.Tstamp = 0x1234_0000_0000UL + (ulong)n;
            return packet;
        }
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        EachRunAsAFreshVms(vm, program, Make, jit, (n, _, _) =>
        {
            if (n != 2) return;
            // A run that makes a runtime call (the rest of the shadow is written there) between straight ones.
            var other = Make(9);
            Assert.Equal(7UL, vm.Run(raise, ref other).R0);
        });
    }

    /// <summary>Six runs of <paramref name="program"/> on <paramref name="vm"/>, packet n made by <paramref name="make"/>:
    /// each ends as a fresh VM's run of the same packet (no fault, the same r0); then <paramref name="check"/> gets n, the
    /// packet the run left and the fresh run's.</summary>
    private static void EachRunAsAFreshVms(BpfVm vm, LoadedProgram program, Func<int, Appliance.Bpf.Context.PacketContext> make, bool jit,
        Action<int, Appliance.Bpf.Context.PacketContext, Appliance.Bpf.Context.PacketContext> check)
    {
        for (int n = 0; n < 6; n++)
        {
            var packet = make(n);
            var r = vm.Run(program, ref packet);
            var fresh = make(n);
            var expected = VmTestSupport.Run(program, ref fresh, new BpfVmOptions { UseJit = jit });
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal(expected.R0, r.R0);
            check(n, packet, fresh);
        }
    }

    /// <summary>A compiled run writes only the shadow fields its code reads; an inline bpf_skb_vlan_push reads
    /// vlan_present, so each run must see its own packet's, not the last run's: a tagged frame after an untagged one
    /// goes to the helper (the old tag into the bytes), an untagged one after a tagged one is pushed inline.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnInlineVlanPushSeesEachRunsOwnTag(bool jit)
    {
        var program = VmTestSupport.LoadFor(PushesVlan, jit);
        Appliance.Bpf.Context.PacketContext Make(int n)
        {
            var packet = VmTestSupport.Packet(Frame(60 + n));
            packet.VlanPresent = n % 2 == 1;
            packet.VlanTci = (ushort)(7 + n);
            packet.VlanProto = 0x8100;
            return packet;
        }
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        EachRunAsAFreshVms(vm, program, Make, jit, (n, packet, fresh) =>
        {
            Assert.Equal(fresh.Data.ToArray(), packet.Data.ToArray());
            Assert.Equal(fresh.VlanTci, packet.VlanTci);
            Assert.True(packet.VlanPresent);
            Assert.Equal(60 + n + (n % 2 == 1 ? 4 : 0), packet.Length); // a tag already there went into the bytes
        });
    }
}
