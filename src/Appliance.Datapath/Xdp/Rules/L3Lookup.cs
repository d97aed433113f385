using Appliance.Bpf.Isa;
using static Appliance.Datapath.Xdp.XdpProgramBuilder;

namespace Appliance.Datapath.Xdp.Rules;

/// <summary>The LPM lookup both L3 rules end with: the key { prefixlen = all bits, address from the frame } on the
/// stack, <c>bpf_map_lookup_elem</c>; a hit on a tenant's prefix goes to the socket, a miss or a hit on one of the
/// board's own addresses (<see cref="L3PrefixMaps.Board"/>, the longer match) falls through.</summary>
internal static class L3Lookup
{
    public static void Emit(XdpProgramBuilder code, int mapFd, int addressBytes, short frameOffset)
    {
        short key = (short)-(4 + addressBytes);
        code.StoreImm(BpfOpcodes.SizeW, Fp, key, addressBytes * 8);
        for (short i = 0; i < addressBytes; i += 4)
            code.Load(BpfOpcodes.SizeW, R5, Data, (short)(frameOffset + i))
                .Store(BpfOpcodes.SizeW, Fp, (short)(key + 4 + i), R5);
        code.LoadMap(R1, mapFd)
            .MovReg(R2, Fp)
            .AddImm(R2, key)
            .Call(HelperMapLookupElem);
        var miss = code.NewLabel();
        code.JumpIf(BpfOpcodes.JmpJeq, R0, 0, miss)
            .Load(BpfOpcodes.SizeW, R5, R0, 0)
            .JumpIf(BpfOpcodes.JmpJeq, R5, (int)L3PrefixMaps.Tenant, code.Verdict(XdpVerdict.ToSocket))
            .Mark(miss);
    }
}
