using System.Buffers.Binary;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Jit;

namespace Appliance.Bpf.Vm;

public sealed unsafe partial class BpfVm
{
    /// <summary>cBPF's negative offsets (SKF_NET_OFF, SKF_LL_OFF): relative to the network or the MAC header.</summary>
    private const int SkfNetOff = -0x100000, SkfLlOff = -0x200000;

    /// <summary>One LD_ABS / LD_IND at <paramref name="offset"/> (imm, plus the source register for IND), for both
    /// engines (compiled code comes here for every load its inline path does not take): r6 must be the context of
    /// a packet run (else the run faults, <see cref="JitState.LegacyLoadFault"/>); r0 = the loaded value
    /// (<see cref="JitState.LegacyLoadDone"/>), or r0 = 0 and the current function returns when the bytes are not
    /// all inside the packet (<see cref="JitState.LegacyLoadOutside"/>). r1–r5 keep their values (the verifier
    /// makes them unreadable afterwards, as the kernel's does).</summary>
    private int LegacyLoad(int offset, VmOp op)
    {
        if (!IsContext(_registers[6]))
        {
            _fault = BpfFault.HelperMisuse; // the kernel requires the context in r6
            return JitState.LegacyLoadFault;
        }
        if (LegacyPacketLoad(offset, op, out _registers[0])) return JitState.LegacyLoadDone;
        _registers[0] = 0; // outside the packet: the function returns 0
        return JitState.LegacyLoadOutside;
    }

    /// <summary>LD_ABS / LD_IND as the kernel's bpf_skb_load_helper_{8,16,32}: the 1, 2 or 4 bytes at
    /// <paramref name="offset"/> from the packet start (from the network header at SKF_NET_OFF and above, from
    /// the MAC header, the packet start, at SKF_LL_OFF and above), big-endian, zero-extended into
    /// <paramref name="value"/>; false when they are not all inside the packet (or below SKF_LL_OFF).</summary>
    /// <summary>The bytes an LD_ABS / LD_IND loads: 1, 2 or 4 (both engines).</summary>
    internal static int LegacyLoadSize(VmOp op) => op is VmOp.LdAbs8 or VmOp.LdInd8 ? 1 : op is VmOp.LdAbs16 or VmOp.LdInd16 ? 2 : 4;

    private bool LegacyPacketLoad(int offset, VmOp op, out ulong value)
    {
        value = 0;
        int size = LegacyLoadSize(op);
        long start = offset >= 0 ? offset
            : offset >= SkfNetOff ? (long)offset - SkfNetOff + NetworkOffset
            : offset >= SkfLlOff ? (long)offset - SkfLlOff
            : -1;
        var data = Packet.Data;
        if (start < 0 || start + size > data.Length) return false;
        var bytes = data.Slice((int)start, size);
        value = size switch { 1 => bytes[0], 2 => BinaryPrimitives.ReadUInt16BigEndian(bytes), _ => BinaryPrimitives.ReadUInt32BigEndian(bytes) };
        return true;
    }
}
