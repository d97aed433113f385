using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Assembly;

/// <summary>The mnemonic tables shared by the assembler and the disassembler (the bpf_conformance text
/// syntax: <c>add</c>/<c>add32</c>, <c>jeq</c>/<c>jeq32</c>, <c>ldxw</c>, <c>stxdw</c>, <c>lock fetch add</c> …).</summary>
internal static class BpfMnemonics
{
    public static readonly (string Name, byte Code)[] Alu =
    [
        ("add", BpfOpcodes.AluAdd), ("sub", BpfOpcodes.AluSub), ("mul", BpfOpcodes.AluMul), ("div", BpfOpcodes.AluDiv),
        ("or", BpfOpcodes.AluOr), ("and", BpfOpcodes.AluAnd), ("lsh", BpfOpcodes.AluLsh), ("rsh", BpfOpcodes.AluRsh),
        ("neg", BpfOpcodes.AluNeg), ("mod", BpfOpcodes.AluMod), ("xor", BpfOpcodes.AluXor), ("mov", BpfOpcodes.AluMov),
        ("arsh", BpfOpcodes.AluArsh),
    ];

    public static readonly (string Name, byte Code)[] Jump =
    [
        ("jeq", BpfOpcodes.JmpJeq), ("jgt", BpfOpcodes.JmpJgt), ("jge", BpfOpcodes.JmpJge), ("jset", BpfOpcodes.JmpJset),
        ("jne", BpfOpcodes.JmpJne), ("jsgt", BpfOpcodes.JmpJsgt), ("jsge", BpfOpcodes.JmpJsge), ("jlt", BpfOpcodes.JmpJlt),
        ("jle", BpfOpcodes.JmpJle), ("jslt", BpfOpcodes.JmpJslt), ("jsle", BpfOpcodes.JmpJsle),
    ];

    public static readonly (string Name, int Imm)[] Atomic =
    [
        ("add", BpfOpcodes.AtomicAdd), ("or", BpfOpcodes.AtomicOr), ("and", BpfOpcodes.AtomicAnd), ("xor", BpfOpcodes.AtomicXor),
    ];

    public static string SizeSuffix(byte opcode) => (opcode & 0x18) switch
    {
        BpfOpcodes.SizeB => "b", BpfOpcodes.SizeH => "h", BpfOpcodes.SizeW => "w", _ => "dw",
    };

    public static byte SizeFromSuffix(string suffix) => suffix switch
    {
        "b" => BpfOpcodes.SizeB, "h" => BpfOpcodes.SizeH, "w" => BpfOpcodes.SizeW, "dw" => BpfOpcodes.SizeDw,
        _ => throw new ArgumentException($"unknown size suffix '{suffix}'"),
    };
}
