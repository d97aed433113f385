using System.Diagnostics;
using System.Security.Cryptography;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;

/// <summary>Mutated objects through the loader, map creation, verifier, JIT and both engines, each case on a worker thread with a 1 MB stack and a 20 s limit: args OBJDIR OUTDIR SECONDS SEED [REPLAY-FILE…].</summary>
internal static class BpfCampaign
{
    public static void Run(string[] args)
    {
        string objDir = args[0], outDir = args[1];
        double seconds = double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        int seed = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        Directory.CreateDirectory(outDir);
        var seeds = Directory.GetFiles(objDir, "*.o").OrderBy(x => x).Select(f => (Name: Path.GetFileName(f), Bytes: File.ReadAllBytes(f))).ToArray();
        var rng = new Random(seed);
        var mutator = new Mutator(rng);
        var stats = new Dictionary<string, int>();
        var slow = new List<(double Ms, string What, string Stage)>();
        void Count(string key) { stats[key] = stats.GetValueOrDefault(key) + 1; }

        var frames = new[]
        {
            Frame(0x0800, 17, 1000, 53),
            Frame(0x86dd, 6, 443, 80),
            new byte[60],
            new byte[14],
        };

        var interp = new BpfVm(new BpfVmOptions { UseJit = false, InstructionBudget = 200_000 });
        var jitVm = new BpfVm(new BpfVmOptions { UseJit = true, InstructionBudget = 200_000 });

        Case? current = null;
        var go = new SemaphoreSlim(0);
        var done = new SemaphoreSlim(0);
        var worker = new Thread(() =>
        {
            while (true)
            {
                go.Wait();
                var c = current!;
                try { RunCase(c); }
                catch (Exception e) { c.Escaped = e; }
                done.Release();
            }
        }, 1024 * 1024) { IsBackground = true };
        worker.Start();

        var replay = args.Skip(4).ToArray();
        var sw = Stopwatch.StartNew();
        long cases = 0;
        int index = 0;
        while (replay.Length > 0 ? index < replay.Length : sw.Elapsed.TotalSeconds < seconds)
        {
            byte[] bytes;
            string what, name;
            if (replay.Length > 0) { name = replay[index]; bytes = File.ReadAllBytes(name); what = "replay"; index++; }
            else
            {
                var s = seeds[rng.Next(seeds.Length)];
                name = s.Name;
                bytes = mutator.Mutate(s.Bytes, out what);
            }
            var c = new Case(name, what, bytes);
            File.WriteAllBytes(Path.Combine(outDir, "current.o"), bytes); // left behind if a case kills the process
            File.WriteAllText(Path.Combine(outDir, "current.txt"), name + " " + what);
            current = c;
            var t0 = Stopwatch.GetTimestamp();
            go.Release();
            if (!done.Wait(TimeSpan.FromSeconds(20)))
            {
                string file = Save(c, "hang");
                Console.WriteLine($"HANG after 20 s: {name} {what} stage={c.Stage} -> {file}");
                Report();
                Environment.Exit(3);
            }
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            cases++;
            Count("outcome:" + c.Outcome);
            var kinds = what.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w.Contains('(')).Select(w => w[..w.IndexOf('(')]).Distinct().ToList();
            if (kinds.Count == 1) Count($"kind:{kinds[0]}:{c.Outcome}");
            foreach (var k in c.Notes) Count(k);
            if (c.Escaped is not null)
            {
                string sig = c.Escaped.GetType().Name + " " + (c.Escaped.StackTrace ?? "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("Appliance.")) ;
                Count("BUG:" + c.Stage + ":" + sig);
                if (stats["BUG:" + c.Stage + ":" + sig] <= 3)
                {
                    string file = Save(c, "bug");
                    Console.WriteLine($"BUG at {c.Stage}: {name} {what}: {c.Escaped.GetType().Name}: {c.Escaped.Message} -> {file}\n{c.Escaped.StackTrace}");
                }
            }
            if (c.LoadAlloc > 64L << 20) { Count("bigalloc"); Console.WriteLine($"BIG ALLOC {c.LoadAlloc >> 20} MiB at load from {bytes.Length} bytes: {name} {what} -> {Save(c, "alloc")}"); }
            slow.Add((ms, $"{name} {what} ({bytes.Length} B)", c.SlowStage));
            if (slow.Count > 40) { slow.Sort((a, b) => b.Ms.CompareTo(a.Ms)); slow.RemoveRange(20, slow.Count - 20); }
            if (cases % 5000 == 0) Console.WriteLine($"[{sw.Elapsed.TotalSeconds:F0}s] {cases} cases");
        }
        Console.WriteLine($"DONE {cases} cases in {sw.Elapsed.TotalSeconds:F0} s, seed {seed}");
        Report();

        void Report()
        {
            foreach (var (k, v) in stats.OrderBy(kv => kv.Key)) Console.WriteLine($"  {v,8} {k}");
            slow.Sort((a, b) => b.Ms.CompareTo(a.Ms));
            foreach (var s in slow.Take(10)) Console.WriteLine($"  slow {s.Ms,8:F1} ms {s.Stage}: {s.What}");
        }

        string Save(Case c, string kind)
        {
            string hash = Convert.ToHexString(SHA1.HashData(c.Bytes))[..12];
            string file = Path.Combine(outDir, $"{kind}-{hash}.o");
            File.WriteAllBytes(file, c.Bytes);
            File.WriteAllText(file + ".txt", $"{c.Name} {c.What}\nstage {c.Stage}\n{c.Escaped}\n");
            return file;
        }

        void RunCase(Case c)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            var t = Stopwatch.GetTimestamp();
            void Lap(string stage)
            {
                double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (ms > c.SlowMs) { c.SlowMs = ms; c.SlowStage = stage + $" {ms:F1}ms"; }
                t = Stopwatch.GetTimestamp();
            }
            c.Stage = "load";
            BpfObject obj;
            try { obj = BpfObjectLoader.Load(c.Bytes, c.Name); }
            catch (BpfLoadException) { c.Outcome = "load-refused"; Lap("load"); c.LoadAlloc = GC.GetAllocatedBytesForCurrentThread() - a0; return; }
            Lap("load");
            c.LoadAlloc = GC.GetAllocatedBytesForCurrentThread() - a0;
            c.Stage = "maps";
            var maps = new List<BpfMap>();
            foreach (var def in obj.Maps)
            {
                long bytes = (((long)Math.Max(def.ValueSize, 1) + 7) & ~7L) * Math.Max(def.MaxEntries, 0); // in a long: value_size may be near int.MaxValue
                if (bytes > 256L << 20) { c.Notes.Add("map>256MiB"); c.Outcome = "big-map"; return; }
                try { maps.Add(BpfMap.Create(def, 2)); }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException) { c.Outcome = "map-refused"; return; }
            }
            try { MapOfMaps.BindInitialSlots(maps); }
            catch (ArgumentException) { c.Outcome = "bind-refused"; return; }
            Lap("maps");
            var loaded = new List<LoadedProgram>();
            c.Stage = "verify";
            int refused = 0;
            foreach (var image in obj.Programs)
            {
                try { loaded.Add(LoadedProgram.Load(image, maps, LinuxHelperTable.Instance)); }
                catch (BpfVerifierException) { refused++; }
                Lap("verify");
            }
            foreach (var p in loaded) { p.TailCallTargets = loaded; if (p.JitUnavailableReason is { } r) c.Notes.Add("nojit:" + r[..Math.Min(60, r.Length)]); }
            c.Outcome = loaded.Count == 0 ? "verify-refused" : refused > 0 ? "some-verified" : "verified";
            c.Stage = "run";
            foreach (var p in loaded)
            {
                foreach (var vm in new[] { interp, jitVm })
                {
                    foreach (var f in frames)
                    {
                        var buffer = new byte[128 + 2048 + 128];
                        f.CopyTo(buffer, 128);
                        var packet = PacketContext.FromArray(buffer, 128, f.Length);
                        packet.Protocol = PacketContext.ProtocolOf(f); // as the datapath and the oracle: 802.3 frames too
                        c.Stage = vm == interp ? "run-interp" : "run-jit";
                        var r = vm.Run(p, ref packet);
                        c.Notes.Add(r.Faulted ? "fault:" + r.Fault : "ran");
                    }
                    Lap(vm == interp ? "run-interp" : "run-jit");
                }
            }
        }


        static byte[] Frame(ushort ethertype, byte proto, ushort sport, ushort dport)
        {
            var f = new byte[ethertype == 0x0800 ? 14 + 20 + 8 + 16 : 14 + 40 + 20 + 16];
            f[0] = 2; f[6] = 2; f[11] = 1;
            f[12] = (byte)(ethertype >> 8); f[13] = (byte)ethertype;
            if (ethertype == 0x0800) { f[14] = 0x45; f[16] = 0; f[17] = (byte)(f.Length - 14); f[22] = 64; f[23] = proto; f[26] = 10; f[29] = 1; f[30] = 10; f[33] = 2; f[34] = (byte)(sport >> 8); f[35] = (byte)sport; f[36] = (byte)(dport >> 8); f[37] = (byte)dport; }
            else { f[14] = 0x60; f[19] = 36; f[20] = proto; f[21] = 64; f[54] = (byte)(sport >> 8); f[55] = (byte)sport; f[56] = (byte)(dport >> 8); f[57] = (byte)dport; }
            return f;
        }
    }
}

sealed class Case(string name, string what, byte[] bytes)
{
    public string Name = name, What = what;
    public byte[] Bytes = bytes;
    public string Stage = "";
    public string Outcome = "";
    public string SlowStage = "";
    public double SlowMs;
    public long LoadAlloc;
    public Exception? Escaped;
    public HashSet<string> Notes = new();
}
