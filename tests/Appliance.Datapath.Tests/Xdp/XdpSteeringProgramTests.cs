using Appliance.Datapath.Xdp;
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
                var result = BpfSyscall.TestRun(prog, frame, new byte[128]);
                Assert.Equal((uint)XdpFlags.Pass, result.Retval); // empty XSKMAP slot -> XDP_PASS, the management path
            }
            finally { LibC.Close(prog); }
        }
        finally { LibC.Close(map); }
    }
}
