using Appliance.Bpf.Assembly;
using Appliance.Bpf.Oracle;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xdp.Rules;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Xdp;

[Collection(KernelCollection.Name)]
public sealed class XdpSteeringProgramTests
{
    [Fact]
    public void Encodes_the_six_slots_of_the_reference_program()
    {
        // afxdp.md §10, with FD FD FD FD = 0x0A0B0C0D.
        string[] expected =
        [
            "61 12 10 00 00 00 00 00", "18 11 00 00 0D 0C 0B 0A", "00 00 00 00 00 00 00 00",
            "b7 03 00 00 02 00 00 00", "85 00 00 00 33 00 00 00", "95 00 00 00 00 00 00 00",
        ];
        var insns = XdpSteeringProgram.Build(0x0A0B0C0D);
        Assert.Equal(expected.Length, insns.Length);
        for (int i = 0; i < insns.Length; i++)
            Assert.Equal(expected[i].ToUpperInvariant(), BitConverter.ToString(BitConverter.GetBytes(insns[i])).Replace('-', ' '));
    }

    [Theory]
    [InlineData(false, "mov %r0, 2")]
    [InlineData(true, "mov %r0, 1")]
    public void The_claimed_mac_program_is_the_prologue_its_rules_and_the_verdicts_in_order(bool dropUnclaimed, string unclaimed)
    {
        const int claimed = 7, xsks = 9;
        var insns = XdpSteeringProgram.Build(xsks, ClaimedMacSteering.Rules(claimed), dropUnclaimed ? XdpVerdict.Drop : XdpVerdict.ToKernel);
        string expected = $"""
            mov %r6, %r1
            ldxw %r7, [%r6+0]
            ldxw %r8, [%r6+4]
            mov %r4, %r7
            add %r4, 14
            jgt %r4, %r8, +{(dropUnclaimed ? 40 : 32)}
            ldxb %r5, [%r7+0]
            and %r5, 1
            jne %r5, 0, +{(dropUnclaimed ? 37 : 29)}
            mov %r4, %r7
            add %r4, 14
            jgt %r4, %r8, +13
            ldxh %r5, [%r7+0]
            stxh [%r10-8], %r5
            ldxh %r5, [%r7+2]
            stxh [%r10-6], %r5
            ldxh %r5, [%r7+4]
            stxh [%r10-4], %r5
            sth [%r10-2], 0
            lddw %r1, map[{claimed}]
            mov %r2, %r10
            add %r2, -8
            call 1
            jne %r0, 0, +15
            mov %r4, %r7
            add %r4, 14
            jgt %r4, %r8, +10
            ldxh %r5, [%r7+12]
            jeq %r5, 1544, +{(dropUnclaimed ? 16 : 8)}
            jne %r5, 56710, +7
            mov %r4, %r7
            add %r4, 55
            jgt %r4, %r8, +4
            ldxb %r5, [%r7+20]
            jne %r5, 58, +2
            ldxb %r5, [%r7+54]
            jeq %r5, 136, +{(dropUnclaimed ? 8 : 0)}
            {unclaimed}
            exit
            ldxw %r2, [%r6+16]
            lddw %r1, map[{xsks}]
            mov %r3, 2
            call 51
            exit

            """.Replace("            ", "");
        if (dropUnclaimed) expected += "mov %r0, 2\nexit\n";
        Assert.Equal(expected, BpfDisassembler.DisassembleAll(insns));
        Assert.Equal(insns, BpfAssembler.Assemble(expected)); // the listing is the program
    }

    [Fact]
    public void A_label_jumped_to_but_never_placed_is_an_error()
    {
        var code = new XdpProgramBuilder();
        code.Goto(code.NewLabel()).Exit();
        Assert.Throws<InvalidOperationException>(() => code.Build());
    }

    [PrivilegedFact]
    public void The_kernel_accepts_it_and_passes_frames_of_unclaimed_queues_to_the_stack()
    {
        int map = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, 4, "test_xsks");
        try
        {
            int prog = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpSteeringProgram.Build(map), "test_steer");
            try
            {
                var frame = new byte[64];
                var result = KernelBpf.TestRun(prog, frame, new byte[128]);
                Assert.Equal((uint)XdpFlags.Pass, result.Retval); // empty XSKMAP slot -> XDP_PASS, the management path
            }
            finally { LibC.Close(prog); }
        }
        finally { LibC.Close(map); }
    }

    /// <summary>The verifier accepts both claimed-MAC variants, and each rule decides what it should: runts and
    /// group frames to the kernel, claimed unicast to the socket path (the XSKMAP slot is empty, so bpf_redirect_map
    /// falls back to XDP_PASS), unclaimed unicast to the unclaimed verdict.</summary>
    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_kernel_accepts_the_claimed_mac_program_and_it_steers_by_destination(bool dropUnclaimed)
    {
        int claimed = BpfSyscall.CreateMap(BpfSyscall.MapTypeHash, ClaimedMacToSocket.KeySize, 4, 16, "test_claimed");
        int xsks = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, 4, "test_xsks");
        int prog = -1;
        try
        {
            prog = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp,
                XdpSteeringProgram.Build(xsks, ClaimedMacSteering.Rules(claimed), dropUnclaimed ? XdpVerdict.Drop : XdpVerdict.ToKernel), "test_claimed");
            byte[] tenant = [0x02, 0, 0, 0, 0, 0x0a, 0, 0];
            BpfSyscall.UpdateElem(claimed, tenant, new byte[4]);

            uint Run(byte[] frame) => KernelBpf.TestRun(prog, frame, new byte[frame.Length + 64]).Retval;
            byte[] Frame(params byte[] dst) { var f = new byte[60]; dst.CopyTo(f, 0); return f; }

            uint unclaimedVerdict = dropUnclaimed ? (uint)XdpFlags.Drop : (uint)XdpFlags.Pass;
            Assert.Equal((uint)XdpFlags.Pass, Run(Frame(0x02, 0, 0, 0, 0, 0x0a)));          // claimed → redirect (empty slot: pass)
            Assert.Equal(unclaimedVerdict, Run(Frame(0x02, 0, 0, 0, 0, 0x0b)));            // unclaimed unicast
            Assert.Equal((uint)XdpFlags.Pass, Run(Frame(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))); // broadcast → kernel
            Assert.Equal((uint)XdpFlags.Pass, Run(Frame(0x33, 0x33, 0, 0, 0, 1)));          // multicast → kernel
            // The board's neighbour replies reach the kernel also where unclaimed frames are dropped: its neighbour
            // table resolves the L3 pairs' next hops (an ARP reply and an IPv6 neighbour advertisement to the port).
            var arp = Frame(0x02, 0, 0, 0, 0, 0x0b);
            arp[12] = 0x08; arp[13] = 0x06;
            Assert.Equal((uint)XdpFlags.Pass, Run(arp));
            var advertisement = Frame(0x02, 0, 0, 0, 0, 0x0b);
            advertisement[12] = 0x86; advertisement[13] = 0xdd; advertisement[20] = 58; advertisement[54] = 136;
            Assert.Equal((uint)XdpFlags.Pass, Run(advertisement));
            advertisement[54] = 128; // an echo request to an unclaimed MAC is unclaimed
            Assert.Equal(unclaimedVerdict, Run(advertisement));
            arp[0] = 0x02; arp[5] = 0x0a; // an ARP reply to a tenant is the tenant's
            Assert.Equal((uint)XdpFlags.Pass, Run(arp));
        }
        finally
        {
            if (prog >= 0) LibC.Close(prog);
            LibC.Close(xsks);
            LibC.Close(claimed);
        }
    }
}
