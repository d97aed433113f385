using System.Text;
using static Elf;

/// <summary>Structure-aware mutations of a BPF object: each kind pokes one part (ELF header, a section header, a symbol,
/// a relocation, BTF or .BTF.ext records, .maps numbers, instructions, bpf-to-bpf calls, a grown code section, section
/// names) with values near the old one, edge values or random ones; a case applies one to four and now and then truncates.</summary>
internal sealed class Mutator(Random rng)
{
    public static readonly string[] Kinds = ["flip", "ehdr", "shdr", "sym", "rel", "btf", "btfext", "insn", "insnvalid", "insnvalid", "insnvalid", "grow", "names", "maps", "calls", "calls", "btf", "btfext"];

    static readonly ulong[] Specials =
    [
        0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 24, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x10000,
        0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000, 0x7fffffffffffffff, 0x8000000000000000, ulong.MaxValue, ulong.MaxValue - 7,
    ];

    ulong Value(ulong near)
    {
        return rng.Next(6) switch
        {
            0 or 1 => Specials[rng.Next(Specials.Length)],
            2 => near + (ulong)(rng.Next(17) - 8),
            3 => near * (ulong)rng.Next(2, 5),
            4 => (ulong)rng.NextInt64(),
            _ => (ulong)rng.Next(0, 1 << rng.Next(1, 24)),
        };
    }

    public byte[] Mutate(byte[] original, out string what)
    {
        var b = (byte[])original.Clone();
        int count = rng.Next(4) == 0 ? rng.Next(2, 5) : 1;
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            string kind = Kinds[rng.Next(Kinds.Length)];
            b = Apply(b, kind, out string detail);
            sb.Append(kind).Append('(').Append(detail).Append(") ");
        }
        if (rng.Next(40) == 0)
        {
            int len = rng.Next(b.Length);
            b = b[..len];
            sb.Append("truncate(").Append(len).Append(')');
        }
        what = sb.ToString().Trim();
        return b;
    }

    byte[] Apply(byte[] b, string kind, out string d)
    {
        d = "";
        var secs = Sections(b);
        switch (kind)
        {
            case "flip":
                {
                    int n = 1 + rng.Next(8);
                    for (int f = 0; f < n; f++)
                    {
                        int at = rng.Next(3) == 0 ? rng.Next(Math.Min(64, b.Length)) : rng.Next(b.Length);
                        b[at] = (byte)rng.Next(256);
                    }
                    d = n.ToString();
                    return b;
                }
            case "ehdr":
                {
                    (int at, int size)[] fields = [(16, 2), (18, 2), (20, 4), (24, 8), (32, 8), (40, 8), (48, 4), (52, 2), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2), (4, 1), (5, 1), (6, 1), (7, 1)];
                    var (fat, fsz) = fields[rng.Next(fields.Length)];
                    ulong v = Value(fsz == 8 ? U64(b, fat) : fsz == 4 ? U32(b, fat) : fsz == 2 ? U16(b, fat) : b[fat]);
                    Write(b, fat, fsz, v);
                    d = $"@{fat}={v:x}";
                    return b;
                }
            case "shdr":
                {
                    if (secs.Count == 0) return b;
                    var s = secs[rng.Next(secs.Count)];
                    (int at, int size)[] fields = [(0, 4), (4, 4), (8, 8), (24, 8), (32, 8), (40, 4), (44, 4), (48, 8), (56, 8), (24, 8), (32, 8), (40, 4), (44, 4), (56, 8)];
                    var (fat, fsz) = fields[rng.Next(fields.Length)];
                    long at = s.HeaderAt + fat;
                    ulong cur = fsz == 8 ? U64(b, at) : U32(b, at);
                    ulong v = rng.Next(4) == 0 ? (ulong)rng.Next(secs.Count + 3) : rng.Next(5) == 0 ? (ulong)(b.Length - rng.Next(64)) : Value(cur);
                    if (fat == 4 && rng.Next(2) == 0) v = (ulong)new[] { 0, 1, 2, 3, 4, 8, 9, 11, 0x6ffffff5, 14, 15, 16, 17 }[rng.Next(13)];
                    Write(b, at, fsz, v);
                    d = $"{s.Name}#{s.Index}+{fat}={v:x}";
                    return b;
                }
            case "sym":
                {
                    var st = secs.FirstOrDefault(s => s.Type == 2 && InFile(b, s));
                    if (st is null || st.Size < 48) return b;
                    long n = st.Size / 24;
                    long e = st.Offset + 24 * rng.NextInt64(1, n);
                    (int at, int size)[] fields = [(0, 4), (4, 1), (5, 1), (6, 2), (8, 8), (16, 8), (6, 2), (8, 8)];
                    var (fat, fsz) = fields[rng.Next(fields.Length)];
                    ulong cur = fsz == 8 ? U64(b, e + fat) : fsz == 4 ? U32(b, e + fat) : fsz == 2 ? U16(b, e + fat) : b[e + fat];
                    ulong v = fat == 6 && rng.Next(2) == 0 ? (ulong)new[] { 0, 0xfff1, 0xfff2, 0xffff, 0xff00, secs.Count, secs.Count - 1, rng.Next(secs.Count) }[rng.Next(8)]
                        : fat == 4 && rng.Next(2) == 0 ? (ulong)((rng.Next(4) << 4) | rng.Next(8)) : Value(cur);
                    Write(b, e + fat, fsz, v);
                    d = $"sym{(e - st.Offset) / 24}+{fat}={v:x}";
                    return b;
                }
            case "rel":
                {
                    var rels = secs.Where(s => s.Type == 9 && InFile(b, s) && s.Size >= 16).ToList();
                    if (rels.Count == 0) return b;
                    var r = rels[rng.Next(rels.Count)];
                    long e = r.Offset + 16 * rng.NextInt64(r.Size / 16);
                    int which = rng.Next(4);
                    if (which == 0) { ulong v = rng.Next(2) == 0 ? Value(U64(b, e)) : U64(b, e) + (ulong)(8 * (rng.Next(9) - 4)); W64(b, e, v); d = $"{r.Name} off={v:x}"; }
                    else if (which == 1) { uint v = (uint)Value(U32(b, e + 12)); W32(b, e + 12, v); d = $"{r.Name} sym={v:x}"; }
                    else if (which == 2) { uint v = (uint)rng.Next(12); W32(b, e + 8, v); d = $"{r.Name} type={v}"; }
                    else { long e2 = r.Offset + 16 * rng.NextInt64(r.Size / 16); W64(b, e + 8, U64(b, e2 + 8)); d = $"{r.Name} swapsym"; }
                    return b;
                }
            case "btf": return MutateBtf(b, secs, out d);
            case "btfext": return MutateBtfExt(b, secs, out d);
            case "insn": return MutateInsn(b, secs, valid: false, out d);
            case "insnvalid": return MutateInsn(b, secs, valid: true, out d);
            case "grow": return Grow(b, secs, out d);
            case "names":
                {
                    if (secs.Count == 0) return b;
                    var s = secs[rng.Next(secs.Count)];
                    var strtab = secs.ElementAtOrDefault(U16(b, 62));
                    if (strtab is null || !InFile(b, strtab)) return b;
                    string[] names = [".text", ".maps", "maps", "license", ".BTF", ".BTF.ext", ".rodata", ".data", ".bss", ".data.x", ".rodata.str1.1", "tc", "xdp", ".rel.text", ".symtab", ".strtab", ".kconfig", ".ksyms"];
                    string name = names[rng.Next(names.Length)];
                    // Point the section's name at an existing string that equals name, if any.
                    var tab = Encoding.ASCII.GetString(b, (int)strtab.Offset, (int)strtab.Size);
                    int idx = tab.IndexOf(name + "\0", StringComparison.Ordinal);
                    if (idx < 0) { uint v = (uint)Value(U32(b, s.HeaderAt)); W32(b, s.HeaderAt, v); d = $"#{s.Index} name={v:x}"; return b; }
                    W32(b, s.HeaderAt, (uint)idx);
                    d = $"#{s.Index}({s.Name})->{name}";
                    return b;
                }
            case "maps": return MutateMapsBtf(b, secs, out d);
            case "calls": return MutateCalls(b, secs, out d);
        }
        return b;
    }

    static void Write(byte[] b, long at, int size, ulong v)
    {
        switch (size)
        {
            case 8: W64(b, at, v); break;
            case 4: W32(b, at, (uint)v); break;
            case 2: W16(b, at, (ushort)v); break;
            default: if (at < b.Length) b[at] = (byte)v; break;
        }
    }

    // BTF: (header field) or (a type's field) or (a member/param/array field).
    static readonly int[] KindExtra = [0, 4, 0, 12, -12, -12, -8, 0, 0, 0, 0, 0, 0, -8, 4, -12, 0, 4, 0, -12];

    static List<(long At, int Kind, int Vlen)> BtfTypes(byte[] b, Sec s)
    {
        var list = new List<(long, int, int)>();
        long hdr = s.Offset;
        uint hdrLen = U32(b, hdr + 4), typeOff = U32(b, hdr + 8), typeLen = U32(b, hdr + 12);
        long at = hdr + hdrLen + typeOff, end = Math.Min(at + typeLen, s.Offset + s.Size);
        while (at + 12 <= end && list.Count < 100000)
        {
            uint info = U32(b, at + 4);
            int kind = (int)((info >> 24) & 0x1f), vlen = (int)(info & 0xffff);
            list.Add((at, kind, vlen));
            int extra = kind < KindExtra.Length ? KindExtra[kind] : 0;
            at += 12 + (extra >= 0 ? extra : -extra * vlen);
        }
        return list;
    }

    byte[] MutateBtf(byte[] b, List<Sec> secs, out string d)
    {
        d = "";
        var s = secs.FirstOrDefault(x => x.Name == ".BTF" && InFile(b, x));
        if (s is null || s.Size < 24) return b;
        var types = BtfTypes(b, s);
        int mode = rng.Next(10);
        if (mode == 0 || types.Count == 0)
        {
            int f = 4 + 4 * rng.Next(5);
            ulong v = rng.Next(3) == 0 ? U32(b, s.Offset + f) + (ulong)(4 * (rng.Next(5) - 2)) : Value(U32(b, s.Offset + f));
            W32(b, s.Offset + f, (uint)v);
            d = $"hdr+{f}={v:x}";
            return b;
        }
        int ti = rng.Next(types.Count);
        var (at, kind, vlen) = types[ti];
        int n = types.Count;
        uint TypeId() => (uint)(rng.Next(3) switch { 0 => rng.Next(n + 2), 1 => ti + 1, _ => (int)Value((ulong)n) });
        if (mode <= 3)
        {
            // name_off, info(kind/vlen/kflag), size/type
            int f = rng.Next(3);
            if (f == 0) { uint v = (uint)Value(U32(b, at)); W32(b, at, v); d = $"t{ti + 1}.name={v:x}"; }
            else if (f == 1)
            {
                uint info = U32(b, at + 4);
                int g = rng.Next(4);
                if (g == 0) info = (info & ~0x1f000000u) | ((uint)rng.Next(32) << 24);
                else if (g == 1) info = (info & ~0xffffu) | (uint)Value((ulong)vlen) & 0xffff;
                else if (g == 2) info ^= 0x80000000u;
                else info = (uint)Value(info);
                W32(b, at + 4, info);
                d = $"t{ti + 1}.info={info:x}";
            }
            else { uint v = rng.Next(2) == 0 ? TypeId() : (uint)Value(U32(b, at + 8)); W32(b, at + 8, v); d = $"t{ti + 1}.type={v:x}"; }
            return b;
        }
        // The extra data of the type.
        int extra = kind < KindExtra.Length ? KindExtra[kind] : 0;
        int len = extra >= 0 ? extra : -extra * vlen;
        if (len == 0) { uint v = TypeId(); W32(b, at + 8, v); d = $"t{ti + 1}.type={v:x}"; return b; }
        long e = at + 12 + 4 * rng.Next(len / 4);
        uint nv = rng.Next(2) == 0 ? TypeId() : (uint)Value(U32(b, e));
        W32(b, e, nv);
        d = $"t{ti + 1}(k{kind}).extra+{e - at - 12}={nv:x}";
        return b;
    }

    // .maps definitions live in BTF as struct members pointing to arrays whose nelems are the values
    // (type, max_entries, key_size …) or pointers to key/value types.
    byte[] MutateMapsBtf(byte[] b, List<Sec> secs, out string d)
    {
        d = "";
        var s = secs.FirstOrDefault(x => x.Name == ".BTF" && InFile(b, x));
        if (s is null) return b;
        var arrays = BtfTypes(b, s).Select((t, i) => (t, i)).Where(x => x.t.Kind == 3).ToList();
        if (arrays.Count == 0) return b;
        var (a, idx) = arrays[rng.Next(arrays.Count)];
        int f = rng.Next(4) == 0 ? rng.Next(2) : 2;
        uint v = f == 2 ? (uint)Value(U32(b, a.At + 12 + 8)) : (uint)rng.Next(idx + 3);
        W32(b, a.At + 12 + 4 * f, v);
        d = $"array t{idx + 1}.{(f == 2 ? "nelems" : f == 0 ? "type" : "index")}={v:x}";
        return b;
    }

    byte[] MutateBtfExt(byte[] b, List<Sec> secs, out string d)
    {
        d = "";
        var s = secs.FirstOrDefault(x => x.Name == ".BTF.ext" && InFile(b, x));
        if (s is null || s.Size < 32) return b;
        uint hdrLen = U32(b, s.Offset + 4);
        if (rng.Next(4) == 0 || hdrLen < 8)
        {
            int f = 4 + 4 * rng.Next(Math.Max(1, Math.Min(7, (int)(hdrLen - 4) / 4)));
            ulong v = rng.Next(3) == 0 ? U32(b, s.Offset + f) + (ulong)(4 * (rng.Next(5) - 2)) : Value(U32(b, s.Offset + f));
            W32(b, s.Offset + f, (uint)v);
            d = $"hdr+{f}={v:x}";
            return b;
        }
        // Pick one of the parts (func info, line info, core relo) and poke a word within it.
        int part = rng.Next(hdrLen >= 32 ? 3 : 2);
        uint off = U32(b, s.Offset + 8 + 8 * part), len = U32(b, s.Offset + 12 + 8 * part);
        if (len < 4) return b;
        long start = s.Offset + hdrLen + off;
        long e = start + 4 * rng.NextInt64(len / 4);
        uint nv = rng.Next(3) == 0 ? (uint)rng.Next(64) : (uint)Value(U32(b, e));
        W32(b, e, nv);
        d = $"part{part}+{e - start}={nv:x}";
        return b;
    }

    static readonly byte[] Alu = [0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc];
    static readonly byte[] Jmps = [0x05, 0x06, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd,
        0x16, 0x1e, 0x26, 0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6, 0xae, 0xb6, 0xbe, 0xc6, 0xce, 0xd6, 0xde];
    static readonly byte[] Mem = [0x61, 0x69, 0x71, 0x79, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x81, 0x89, 0x91, 0x99, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50];

    ulong RandomInsn(int i, int n, bool valid)
    {
        int dst = valid ? rng.Next(10) : rng.Next(16), src = valid ? rng.Next(11) : rng.Next(16);
        byte op;
        short off = 0;
        int imm = 0;
        switch (rng.Next(valid ? 7 : 9))
        {
            case 0: op = Alu[rng.Next(Alu.Length)]; op |= (byte)(rng.Next(2) << 3); imm = (int)Value(8); if (rng.Next(8) == 0) off = (short)new[] { 0, 1, 8, 16, 32 }[rng.Next(5)]; break;
            case 1 or 2: op = (byte)(Alu[rng.Next(Alu.Length)] | 3); imm = rng.Next(4) == 0 ? (int)Value(0) : rng.Next(-8, 64); break; // 64-bit ALU
            case 3: op = Jmps[rng.Next(Jmps.Length)]; off = (short)(rng.Next(4) == 0 ? (int)Value(0) : rng.Next(-i - 2, n - i + 2)); imm = rng.Next(3) == 0 ? (int)Value(0) : rng.Next(-4, 100); if (op == 0x06) imm = rng.Next(-i - 2, n - i + 2); break;
            case 4: op = Mem[rng.Next(Mem.Length)]; off = (short)(rng.Next(3) == 0 ? (int)Value(0) : -8 * rng.Next(1, 70) + rng.Next(8)); imm = op is 0xc3 or 0xdb ? new[] { 0, 1, 0x40, 0x50, 0xa0, 0x41, 0xe1, 0xf1, 0x51 }[rng.Next(9)] : (int)Value(0); break;
            case 5: op = 0x85; src = rng.Next(3) switch { 0 => 0, 1 => 1, _ => rng.Next(3) }; imm = src == 1 ? rng.Next(-i - 2, n - i + 2) : rng.Next(3) == 0 ? (int)Value(0) : rng.Next(0, 220); break;
            case 6: op = 0x95; break;
            case 7: op = (byte)rng.Next(256); off = (short)rng.Next(); imm = rng.Next(); break;
            default: op = 0xd4; imm = new[] { 16, 32, 64, 0, 8, 128 }[rng.Next(6)]; break;
        }
        return op | (ulong)(byte)(dst | src << 4) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;
    }

    byte[] MutateInsn(byte[] b, List<Sec> secs, bool valid, out string d)
    {
        d = "";
        var code = secs.Where(s => (s.Flags & 4) != 0 && InFile(b, s) && s.Size >= 16).ToList();
        if (code.Count == 0) return b;
        var c = code[rng.Next(code.Count)];
        int n = (int)(c.Size / 8);
        int count = rng.Next(3) == 0 ? rng.Next(2, 12) : 1;
        for (int k = 0; k < count; k++)
        {
            int i = rng.Next(n);
            long at = c.Offset + 8L * i;
            ulong ins = U64(b, at);
            byte op = (byte)ins;
            int mode = rng.Next(valid ? 6 : 9);
            switch (mode)
            {
                case 0: W32(b, at + 4, (uint)Value(U32(b, at + 4))); d += $"{c.Name}[{i}].imm "; break;
                case 1: W16(b, at + 2, (ushort)(short)(rng.Next(3) == 0 ? (int)Value(0) : (short)U16(b, at + 2) + rng.Next(-4, 5))); d += $"{c.Name}[{i}].off "; break;
                case 2: // same class, another op
                    if ((op & 7) is 4 or 7) b[at] = (byte)(Alu[rng.Next(Alu.Length)] | (op & 7) | (op & 8));
                    else if ((op & 7) is 5 or 6 && op is not (0x85 or 0x95)) b[at] = (byte)(Jmps[rng.Next(Jmps.Length)] & 0xf8 | (op & 7) | (rng.Next(2) << 3));
                    else b[at + 1] = (byte)((b[at + 1] & 0xf0) | rng.Next(11));
                    d += $"{c.Name}[{i}].op "; break;
                case 3: b[at + 1] = (byte)(rng.Next(valid ? 11 : 16) | rng.Next(valid ? 11 : 16) << 4); d += $"{c.Name}[{i}].regs "; break;
                case 4 or 5: W64(b, at, RandomInsn(i, n, valid)); d += $"{c.Name}[{i}]=rand "; break;
                case 6: // lddw halves
                    {
                        ulong first = 0x18 | (ulong)(byte)(rng.Next(11) | rng.Next(7) << 4) << 8 | (ulong)(uint)Value(0) << 32;
                        W64(b, at, first);
                        if (i + 1 < n && rng.Next(3) != 0) W64(b, at + 8, rng.Next(2) == 0 ? (ulong)(uint)Value(0) << 32 : RandomInsn(i + 1, n, false));
                        d += $"{c.Name}[{i}]=lddw ";
                        break;
                    }
                case 7: W64(b, at, U64(b, c.Offset + 8L * rng.Next(n))); d += $"{c.Name}[{i}]=copy "; break;
                default: W64(b, at, RandomInsn(i, n, false)); d += $"{c.Name}[{i}]=raw "; break;
            }
        }
        return b;
    }

    // Calls: retarget a bpf-to-bpf call (recursion, mutual recursion, into the middle of a function, past the end),
    // or put a call where another instruction was.
    byte[] MutateCalls(byte[] b, List<Sec> secs, out string d)
    {
        d = "";
        var code = secs.Where(s => (s.Flags & 4) != 0 && InFile(b, s) && s.Size >= 16).ToList();
        if (code.Count == 0) return b;
        var c = code[rng.Next(code.Count)];
        int n = (int)(c.Size / 8);
        var calls = Enumerable.Range(0, n).Where(i => b[c.Offset + 8L * i] == 0x85 && (b[c.Offset + 8L * i + 1] >> 4) == 1).ToList();
        int count = rng.Next(1, 4);
        for (int k = 0; k < count; k++)
        {
            int i = calls.Count > 0 && rng.Next(3) != 0 ? calls[rng.Next(calls.Count)] : rng.Next(n);
            long at = c.Offset + 8L * i;
            int target = rng.Next(5) switch { 0 => -1, 1 => -i - 1, 2 => rng.Next(-i - 1, n - i), 3 => (int)Value(0), _ => rng.Next(-i - 3, n - i + 3) };
            W64(b, at, 0x85 | (ulong)0x10 << 8 | (ulong)(uint)target << 32);
            d += $"{c.Name}[{i}] call {target:+0;-0} ";
        }
        return b;
    }

    // A bigger code section: the section's instructions, random ones and copies, appended at the end of the file.
    byte[] Grow(byte[] b, List<Sec> secs, out string d)
    {
        d = "";
        var code = secs.Where(s => (s.Flags & 4) != 0 && InFile(b, s) && s.Size >= 16).ToList();
        if (code.Count == 0) return b;
        var c = code[rng.Next(code.Count)];
        int n = (int)(c.Size / 8);
        int target = rng.Next(4) == 0 ? rng.Next(1000, 120_000) : rng.Next(n, n * 8 + 64);
        var grown = new byte[b.Length + 8L * target];
        b.CopyTo(grown, 0);
        long at = b.Length;
        int mode = rng.Next(3);
        for (int i = 0; i < target; i++)
        {
            ulong ins = mode switch
            {
                0 => U64(b, c.Offset + 8L * (i % n)),
                1 => rng.Next(4) == 0 ? RandomInsn(i, target, true) : U64(b, c.Offset + 8L * (i % n)),
                _ => i == target - 1 ? 0x95 : RandomInsn(i, target, true),
            };
            W64(grown, at + 8L * i, ins);
        }
        W64(grown, c.HeaderAt + 24, (ulong)at);
        W64(grown, c.HeaderAt + 32, 8UL * (ulong)target);
        d = $"{c.Name} {n}->{target} mode{mode}";
        return grown;
    }
}
