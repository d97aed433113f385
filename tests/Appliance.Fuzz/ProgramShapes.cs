using System.Diagnostics;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Appliance.Bpf.Context;
using static Elf;

/// <summary>Pathological program shapes put in place of an object's "tc" section (its function symbol resized): how long
/// load, verification with the JIT, and a run on each engine take as they grow. SHAPES=PREFIX picks shapes, SHAPES_K=a,b,… sizes.</summary>
internal static class ProgramShapes
{
    static ulong I(byte op, int dst = 0, int src = 0, short off = 0, int imm = 0) => op | (ulong)(byte)(dst | src << 4) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;
    static readonly ulong Exit = I(0x95), R0Zero = I(0xb7, 0, 0, 0, 0);

    public static void Run(byte[] seed)
    {
        var secs = Sections(seed);
        var tc = secs.First(s => s.Name == "tc");
        var symtab = secs.First(s => s.Type == 2);
        long symAt = -1;
        for (long e = symtab.Offset; e < symtab.Offset + symtab.Size; e += 24)
            if ((seed[e + 4] & 0xf) == 2 && U16(seed, e + 6) == tc.Index) symAt = e;
        var gens = new (string Name, Func<int, List<ulong>> Make)[]
        {
            ("fanout-calls K^7", k => { var c = new List<ulong>(); int depth = 7; int fsize = k + 2; for (int f = 0; f <= depth; f++) { c.Add(R0Zero); for (int j = 0; j < (f < depth ? k : 0); j++) { int at = c.Count; int target = (f + 1) * fsize; c.Add(I(0x85, 0, 1, 0, target - at - 1)); } while (c.Count < (f + 1) * fsize - 1) c.Add(R0Zero); c.Add(Exit); } return c; }),
            ("diamonds", k => { var c = new List<ulong> { R0Zero, I(0xb7, 2, 0, 0, 0), I(0x61, 3, 1, 0, 0) }; for (int j = 0; j < k; j++) { c.Add(I(0x25, 3, 0, 1, j)); c.Add(I(0x07, 2, 0, 0, 1)); c.Add(I(0x07, 0, 0, 0, 1)); } c.Add(Exit); return c; }),
            ("jump-chain", k => { var c = new List<ulong> { R0Zero, I(0x61, 3, 1, 0, 0) }; for (int j = 0; j < k; j++) c.Add(I(0x15, 3, 0, (short)Math.Min(k - j, 30000), j)); c.Add(Exit); return c; }),
            ("nested-loops", k => { var c = new List<ulong> { R0Zero }; int n = Math.Max(1, k / 4); for (int j = 0; j < n; j++) c.Add(I(0xb7, (j % 8) + 1 == 1 ? 2 : (j % 8) + 1, 0, 0, 0)); c.Clear(); c.Add(R0Zero); c.Add(I(0xb7, 2, 0, 0, 0)); for (int j = 0; j < k; j++) { c.Add(I(0x07, 2, 0, 0, 1)); } for (int j = 0; j < k; j++) c.Add(I(0xa5, 2, 0, (short)-(Math.Min(j + 1, 30000)), 1000000)); c.Add(Exit); return c; }),
            ("stack-spills", k => { var c = new List<ulong> { R0Zero, I(0xbf, 6, 1) }; for (int j = 0; j < k; j++) { c.Add(I(0x7b, 10, 6, (short)(-8 * (1 + j % 64)))); c.Add(I(0x79, 6, 10, (short)(-8 * (1 + (j * 7) % 64)))); } c.Add(Exit); return c; }),
            ("packet-checks", k => { var c = new List<ulong> { R0Zero, I(0x61, 2, 1, 76), I(0x61, 3, 1, 80) }; for (int j = 0; j < k; j++) { c.Add(I(0xbf, 4, 2)); c.Add(I(0x07, 4, 0, 0, 14 + j % 200)); c.Add(I(0x2d, 4, 3, 1)); c.Add(I(0x71, 5, 2, (short)(j % 200))); } c.Add(Exit); return c; }),
            ("helper-calls", k => { var c = new List<ulong> { I(0xbf, 6, 1) }; for (int j = 0; j < k; j++) { c.Add(I(0x85, 0, 0, 0, 5)); } c.Add(R0Zero); c.Add(Exit); return c; }),
            ("call-chain", k => { var c = new List<ulong>(); for (int f = 0; f < k; f++) { c.Add(R0Zero); if (f < k - 1) c.Add(I(0x85, 0, 1, 0, 1)); else c.Add(R0Zero); c.Add(Exit); } return c; }),
            ("call-chain-back", k => { var c = new List<ulong>(); c.Add(R0Zero); c.Add(I(0x85, 0, 1, 0, 3 * (k - 1) - 1 + 1)); c.Add(Exit); for (int f = 1; f < k; f++) { c.Add(R0Zero); c.Add(f > 1 ? I(0x85, 0, 1, 0, -3 - 2 + 1 - 1) : R0Zero); c.Add(Exit); } return c; }),
            ("jumps-everywhere", k => { var r = new Random(k); var c = new List<ulong> { R0Zero, I(0x61, 3, 1, 0, 0) }; for (int j = 0; j < k; j++) { int at = c.Count; int target = r.Next(2, k + 2); c.Add(I(0x25, 3, 0, (short)Math.Clamp(target - at - 1, -32000, 32000), r.Next(100))); } c.Add(Exit); return c; }),
            ("loops-nested", k => { var c = new List<ulong> { R0Zero, I(0xb7, 2, 0, 0, 0) }; for (int j = 0; j < k; j++) c.Add(I(0x07, 2, 0, 0, 1)); for (int j = 0; j < k; j++) { int at = c.Count; int target = 2 + (k - 1 - j); c.Add(I(0xa5, 2, 0, (short)Math.Max(target - at - 1, -32000), 1000000)); } c.Add(Exit); return c; }),
            ("loops-sequential", k => { var c = new List<ulong> { R0Zero, I(0xb7, 2, 0, 0, 0) }; for (int j = 0; j < k; j++) { c.Add(I(0x07, 2, 0, 0, 1)); c.Add(I(0xa5, 2, 0, -2, 1000 * (j + 1))); } c.Add(Exit); return c; }),
            ("callbacks", k => { var c = new List<ulong> { I(0xbf, 6, 1) }; int cbStart = 1 + 7 * k + 2; for (int j = 0; j < k; j++) { int at = c.Count; c.Add(I(0xb7, 1, 0, 0, 4)); c.Add(I(0x18, 2, 4, 0, cbStart + 2 * j - (at + 1) - 1)); c.Add(0); c.Add(I(0xb7, 3, 0, 0, 0)); c.Add(I(0xb7, 4, 0, 0, 0)); c.Add(I(0x85, 0, 0, 0, 181)); c.Add(R0Zero); } c.Add(R0Zero); c.Add(Exit); for (int j = 0; j < k; j++) { c.Add(R0Zero); c.Add(Exit); } return c; }),
            ("call-chain-deep-mutual", k => { var c = new List<ulong>(); c.Add(R0Zero); c.Add(I(0x85, 0, 1, 0, 1)); c.Add(Exit); c.Add(R0Zero); c.Add(I(0x85, 0, 1, 0, -3)); c.Add(Exit); for (int j = 0; j < k; j++) c.Add(R0Zero); c.Add(Exit); return c; }),
        };
        foreach (var (name, make) in gens.Where(g => Environment.GetEnvironmentVariable("SHAPES") is not { } only || g.Name.StartsWith(only)))
        {
            foreach (int k in (Environment.GetEnvironmentVariable("SHAPES_K") ?? "10,100,1000,4000,16000,60000").Split(',').Select(int.Parse))
            {
                var code = make(k);
                var b = new byte[seed.Length + 8 * code.Count];
                seed.CopyTo(b, 0);
                for (int i = 0; i < code.Count; i++) W64(b, seed.Length + 8L * i, code[i]);
                W64(b, tc.HeaderAt + 24, (ulong)seed.Length);
                W64(b, tc.HeaderAt + 32, 8UL * (ulong)code.Count);
                if (symAt >= 0) W64(b, symAt + 16, 8UL * (ulong)code.Count);
                var sw = Stopwatch.StartNew();
                string outcome;
                double load = 0, verify = 0, run = 0;
                try
                {
                    var obj = BpfObjectLoader.Load(b, name);
                    load = sw.Elapsed.TotalMilliseconds;
                    var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToList();
                    var p = LoadedProgram.Load(obj.Programs[0], maps, LinuxHelperTable.Instance);
                    verify = sw.Elapsed.TotalMilliseconds - load;
                    foreach (bool jit in new[] { false, true })
                    {
                        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
                        var buf = new byte[256];
                        var pkt = PacketContext.FromArray(buf, 64, 64);
                        var r = vm.Run(p, ref pkt);
                        outcome = $"ran {r.Fault} {r.InstructionsExecuted}";
                    }
                    run = sw.Elapsed.TotalMilliseconds - load - verify;
                    outcome = $"verified (jit: {p.JitUnavailableReason ?? "yes"})";
                }
                catch (BpfLoadException e) { outcome = "load: " + e.Message[..Math.Min(120, e.Message.Length)]; }
                catch (BpfVerifierException e) { outcome = "verifier: " + e.Message[..Math.Min(160, e.Message.Length)]; }
                catch (Exception e) { outcome = "BUG " + e; }
                Console.WriteLine($"{name,-24} k={k,6} insns={code.Count,7} total {sw.Elapsed.TotalMilliseconds,9:F1} ms (load {load:F1} verify {verify:F1} run {run:F1}): {outcome}");
            }
        }
    }
}
