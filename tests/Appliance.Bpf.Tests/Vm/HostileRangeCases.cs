namespace Appliance.Bpf.Tests.Vm;

/// <summary>Hostile programs aimed at the verifier's pointer ranges (<c>PointerAnalysis</c>): each looks like
/// the bounds-checked pattern it proves, but its access is outside what the check covers, so it must keep the
/// run-time check and fault — identically on the interpreter and the JIT. Each entry is (what it tries, the
/// program, the frame length, the instruction that faults). Prefixes load data (r2) and data_end (r3).</summary>
internal static class HostileRangeCases
{
    public const string Packet = "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\n";

    /// <summary>r2 = data, r3 = data_end, r4 = data + 14 proven &lt;= data_end (instructions 0–4).</summary>
    public const string Checked14 = Packet + "mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\n";

    /// <summary>The same with data + 40.</summary>
    public const string Checked40 = Packet + "mov %r4, %r2\nadd %r4, 40\njgt %r4, %r3, out\n";

    private const string Out = "out:\nmov %r0, 0\nexit\n";

    public static readonly (string Name, string Program, int FrameLength, int FaultAt)[] All =
    [
        ("an unknown byte added after the check",
            Checked14 + "ldxb %r5, [%r2+0]\nadd %r2, %r5\nldxb %r0, [%r2+13]\nexit\n" + Out, 64, 7),
        ("a 32-bit word added after the check (too wide to be a packet offset)",
            Checked14 + "ldxw %r5, [%r2+0]\nadd %r2, %r5\nldxb %r0, [%r2+0]\nexit\n" + Out, 64, 7),
        ("the check on the taken branch, the access on it",
            Packet + "mov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, bad\nldxb %r0, [%r2+0]\nexit\nbad:\nldxdw %r0, [%r2+0]\nexit\n", 4, 7),
        ("jle: the access on the fall-through, where data + 8 > data_end",
            Packet + "mov %r4, %r2\nadd %r4, 8\njle %r4, %r3, good\nldxdw %r0, [%r2+0]\nexit\ngood:\nmov %r0, 0\nexit\n", 4, 5),
        ("data_end > p jumps only when p < data_end: the access on the other side",
            Packet + "mov %r4, %r2\nadd %r4, 8\njgt %r3, %r4, good\nldxdw %r0, [%r2+0]\nexit\ngood:\nmov %r0, 0\nexit\n", 4, 5),
        ("one byte past the proven range",
            Checked14 + "ldxb %r0, [%r2+14]\nexit\n" + Out, 14, 5),
        ("a check through a pointer below data",
            Packet + "mov %r4, %r2\nadd %r4, -8\nmov %r5, %r4\nadd %r5, 8\njgt %r5, %r3, out\nldxb %r0, [%r4+0]\nexit\n" + Out, 64, 7),
        ("32-bit arithmetic on the checked pointer (wraps below data)",
            Checked14 + "add32 %r2, -16\nldxb %r0, [%r2+15]\nexit\n" + Out, 64, 6),
        ("mov32 of a map value pointer lands in the packet window's headroom",
            "stw [%r10-4], 0\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nmov32 %r0, %r0\nldxdw %r0, [%r0+0]\nexit\n" + Out, 64, 8),
        ("a spilled pointer partly overwritten by a narrow store",
            Checked14 + "stxdw [%r10-8], %r2\nstw [%r10-8], 0x7ffffff0\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\n" + Out, 64, 8),
        ("a spilled pointer overwritten through an alias of the slot",
            Checked14 + "stxdw [%r10-8], %r2\nmov %r5, %r10\nadd %r5, -8\nlddw %r6, 0x7ffffff0\nstxdw [%r5+0], %r6\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\n" + Out, 64, 12),
        ("a spilled pointer overwritten through a forged stack address",
            Checked14 + "stxdw [%r10-8], %r2\nlddw %r5, 0x110000ff8\nlddw %r6, 0x7ffffff0\nstxdw [%r5+0], %r6\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\n" + Out, 64, 12),
        ("a spilled pointer overwritten by bpf_skb_load_bytes",
            Checked14 + "mov %r6, %r1\nstxdw [%r10-8], %r2\nmov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 26\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\n" + Out, 64, 14),
        ("data_end gone stale after bpf_skb_change_tail shrank the packet",
            Packet + "mov %r6, %r2\nmov %r7, %r3\nmov %r2, 14\nmov %r3, 0\ncall 38\nmov %r4, %r6\nadd %r4, 40\njgt %r4, %r7, out\nldxb %r0, [%r6+39]\nexit\n" + Out, 64, 10),
        ("a range proven before bpf_skb_change_tail, used after it",
            Checked40 + "mov %r6, %r2\nmov %r2, 14\nmov %r3, 0\ncall 38\nldxb %r0, [%r6+39]\nexit\n" + Out, 64, 9),
        ("a range proven before a call into a function that shrinks the packet",
            Checked40 + "mov %r6, %r2\ncall local shrink\nldxb %r0, [%r6+39]\nexit\n" + Out + "shrink:\nmov %r2, 14\nmov %r3, 0\ncall 38\nmov %r0, 0\nexit\n", 64, 7),
        ("a callee called with a checked pointer and with the same pointer moved past the check",
            Packet + "mov %r4, %r2\nadd %r4, 16\njgt %r4, %r3, out\nmov %r6, %r2\nmov %r1, %r2\ncall local f\nmov %r1, %r6\nadd %r1, 8\ncall local f\nexit\n" + Out + "f:\nldxb %r0, [%r1+15]\nexit\n", 16, 14),
        ("a loop walking a pointer past the checked bytes",
            Checked14 + "mov %r5, 0\nloop:\nldxb %r0, [%r2+0]\nadd %r2, 1\nadd %r5, 1\njlt %r5, 100, loop\nexit\n" + Out, 64, 6),
        ("a loop whose index is bounded only on the first iteration",
            Checked14 + "mov %r5, 0\nloop:\nmov %r4, %r2\nadd %r4, %r5\nldxb %r0, [%r4+0]\nadd %r5, 7\njlt %r5, 200, loop\nexit\n" + Out, 64, 8),
        ("a map value read without the NULL check",
            "stw [%r10-4], 9\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0+0]\nexit\n", 64, 6),
        ("the NULL side of the check",
            "stw [%r10-4], 9\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njne %r0, 0, out\nldxdw %r0, [%r0+0]\nexit\n" + Out, 64, 7),
        ("a map value read past its end",
            "stw [%r10-4], 0\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nldxdw %r0, [%r0+8]\nexit\n" + Out, 64, 7),
        ("a map value pointer moved by an unknown byte",
            "stw [%r10-4], 0\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nldxb %r1, [%r0+0]\nor %r1, 8\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\n" + Out, 64, 10),
    ];
}
