using Appliance.Bpf.Assembly;
using Appliance.Bpf.Objects;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>bpf_skb_vlan_pop on short frames with an in-band tag: the kernel pops it once the frame holds the MAC
/// addresses, the tag and the inner EtherType (18 bytes, VLAN_ETH_HLEN), and refuses shorter ones with -ENOMEM. The
/// same program and frames in the kernel (BPF_PROG_TEST_RUN), the interpreter and the JIT: same r0, same frame.</summary>
[Collection(KernelCollection.Name)]
public sealed class VlanPopTests
{
    [PrivilegedTheory]
    [InlineData(16)]
    [InlineData(18)]
    [InlineData(19)]
    [InlineData(21)]
    [InlineData(22)]
    public void ShortTaggedFramesPopAsInTheKernel(int length)
    {
        var obj = new BpfObject("vlan_pop", [new BpfProgramImage("p", "tc", BpfAssembler.Assemble("call 19\nexit"))], [], "GPL");
        var frame = PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, 10, vlan: 7)[..length];
        using var kernel = KernelObject.Load(obj);
        var k = kernel.Run("p", frame);
        Assert.Equal(length >= 18 ? 0u : unchecked((uint)-12), k.Retval);
        foreach (bool jit in new[] { false, true })
        {
            using var engine = new EngineObject(obj, jit);
            var e = engine.Run("p", frame);
            Assert.Equal(k.Retval, (uint)e.Run.R0);
            Assert.Equal(Convert.ToHexString(k.Frame), Convert.ToHexString(e.Frame));
        }
    }
}
