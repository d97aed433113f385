namespace Appliance.Bpf.Isa;

/// <summary>One raw 64-bit instruction slot split into its fields, as stored little-endian:
/// opcode u8, dst:4 (low nibble) src:4 (high nibble), offset s16, imm s32.</summary>
public readonly record struct BpfInstruction(byte Opcode, byte Dst, byte Src, short Offset, int Imm)
{
    public static BpfInstruction Decode(ulong raw) => new(
        (byte)raw,
        (byte)((raw >> 8) & 0x0f),
        (byte)((raw >> 12) & 0x0f),
        (short)(ushort)(raw >> 16),
        (int)(uint)(raw >> 32));

    public ulong Encode() =>
        Opcode | ((ulong)(Dst & 0x0f) << 8) | ((ulong)(Src & 0x0f) << 12) | ((ulong)(ushort)Offset << 16) | ((ulong)(uint)Imm << 32);

    public byte Class => BpfOpcodes.Class(Opcode);

    /// <summary>True for the first slot of a 16-byte <c>lddw</c>.</summary>
    public bool IsWide => Opcode == BpfOpcodes.Lddw;
}
