namespace Appliance.Bpf.Tests.Elf;

/// <summary>Field access on raw instructions, for assertions (independent of the engine's decoder).</summary>
internal static class Insn
{
    public static byte Opcode(ulong i) => (byte)i;
    public static int Src(ulong i) => (int)((i >> 12) & 0xf);
    public static int Imm(ulong i) => (int)(i >> 32);
    public static bool IsLddw(ulong i) => Opcode(i) == 0x18;
    public static bool IsPseudoCall(ulong i) => Opcode(i) == 0x85 && Src(i) == 1;
    public static bool IsExit(ulong i) => Opcode(i) == 0x95;

    /// <summary>Indexes of every bpf-to-bpf call in the image.</summary>
    public static List<int> Calls(ulong[] image)
    {
        var list = new List<int>();
        for (int i = 0; i < image.Length; i++)
        {
            if (IsPseudoCall(image[i])) list.Add(i);
            if (IsLddw(image[i])) i++;
        }
        return list;
    }

    /// <summary>(index, src, imm, next imm) of every lddw in the image.</summary>
    public static List<(int At, int Src, int Imm, int NextImm)> Loads(ulong[] image)
    {
        var list = new List<(int, int, int, int)>();
        for (int i = 0; i + 1 < image.Length; i++)
            if (IsLddw(image[i])) { list.Add((i, Src(image[i]), Imm(image[i]), Imm(image[i + 1]))); i++; }
        return list;
    }
}
