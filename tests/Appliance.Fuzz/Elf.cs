using System.Buffers.Binary;
using System.Text;

/// <summary>One section header as the mutator sees it (no checks: it reads what a mutation left).</summary>
internal sealed class Sec
{
    public int Index;
    public int HeaderAt;
    public string Name = "";
    public uint Type;
    public ulong Flags;
    public long Offset;
    public long Size;
    public uint Link, Info;
    public long EntSize;
}

/// <summary>A tolerant view of an ELF64 little-endian object for the mutator: section headers, names, and field access
/// that ignores offsets outside the file.</summary>
internal static class Elf
{
    public static ulong U64(byte[] b, long at) => at >= 0 && at + 8 <= b.Length ? BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)at)) : 0;
    public static uint U32(byte[] b, long at) => at >= 0 && at + 4 <= b.Length ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at)) : 0;
    public static ushort U16(byte[] b, long at) => at >= 0 && at + 2 <= b.Length ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at)) : (ushort)0;
    public static void W64(byte[] b, long at, ulong v) { if (at >= 0 && at + 8 <= b.Length) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)at), v); }
    public static void W32(byte[] b, long at, uint v) { if (at >= 0 && at + 4 <= b.Length) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)at), v); }
    public static void W16(byte[] b, long at, ushort v) { if (at >= 0 && at + 2 <= b.Length) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan((int)at), v); }

    public static List<Sec> Sections(byte[] b)
    {
        var list = new List<Sec>();
        if (b.Length < 64) return list;
        long shoff = (long)U64(b, 40);
        int num = U16(b, 60), strndx = U16(b, 62);
        if (shoff <= 0 || shoff > b.Length) return list;
        for (int i = 0; i < num && shoff + (i + 1) * 64L <= b.Length; i++)
        {
            long h = shoff + i * 64L;
            list.Add(new Sec
            {
                Index = i, HeaderAt = (int)h, Type = U32(b, h + 4), Flags = U64(b, h + 8), Offset = (long)U64(b, h + 24),
                Size = (long)U64(b, h + 32), Link = U32(b, h + 40), Info = U32(b, h + 44), EntSize = (long)U64(b, h + 56),
            });
        }
        if (strndx < list.Count)
        {
            var s = list[strndx];
            foreach (var sec in list)
            {
                long at = s.Offset + U32(b, sec.HeaderAt);
                if (at < 0 || at >= b.Length) continue;
                int end = (int)at;
                while (end < b.Length && b[end] != 0) end++;
                sec.Name = Encoding.ASCII.GetString(b, (int)at, end - (int)at);
            }
        }
        return list;
    }

    public static bool InFile(byte[] b, Sec s) => s.Offset >= 0 && s.Size >= 0 && s.Offset <= b.Length && s.Size <= b.Length - s.Offset && s.Type != 8;
}
