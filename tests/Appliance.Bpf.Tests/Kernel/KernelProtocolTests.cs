using Appliance.Bpf.Assembly;
using Appliance.Bpf.Context;
using Appliance.Bpf.Objects;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>skb->protocol as a tc program reads it (__sk_buff.protocol, network order) for frames whose type field is an
/// EtherType or an 802.3 length: the kernel's eth_type_trans gives LLC frames ETH_P_802_2 and raw 802.3 (payload
/// 0xFFFF) ETH_P_802_3, and <see cref="PacketContext.ProtocolOf"/> (which the datapath and the oracle use) the same;
/// the interpreter and the JIT return it too.</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelProtocolTests
{
    [PrivilegedTheory]
    [InlineData("0800", 0x0800)]        // IPv4 (a 20-byte header follows)
    [InlineData("0806", 0x0806)]        // ARP
    [InlineData("05ff", 0x0004)]        // the largest 802.3 length: LLC
    [InlineData("0600", 0x0600)]        // the smallest EtherType
    [InlineData("002e", 0x0004)]        // LLC
    [InlineData("002effff", 0x0001)]    // raw 802.3 (IPX)
    [InlineData("002effaa", 0x0004)]
    public void TheProtocolIsTheKernels(string typeAndPayload, int expected)
    {
        var frame = new byte[64];
        frame[0] = 0x02;
        Convert.FromHexString(typeAndPayload).CopyTo(frame, 12);
        if (expected == 0x0800) frame[14] = 0x45;
        var obj = new BpfObject("protocol", [new BpfProgramImage("p", "tc", BpfAssembler.Assemble("ldxw %r0, [%r1+16]\nexit"))], [], "GPL");
        using var kernel = KernelObject.Load(obj);
        uint kernelSays = kernel.Run("p", frame).Retval;
        Assert.Equal((uint)(ushort)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)expected), kernelSays);
        Assert.Equal(expected, PacketContext.ProtocolOf(frame));
        foreach (bool jit in new[] { false, true })
        {
            using var engine = new EngineObject(obj, jit);
            Assert.Equal(kernelSays, (uint)engine.Run("p", frame).Run.R0);
        }
    }
}
