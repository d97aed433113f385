using System.Text;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Conformance;

/// <summary>Generates random tc programs in assembler text that pass the verifier: every register written
/// before it is read, r10-relative stack accesses inside the frame, forward branches, counted loops, helper
/// and bpf-to-bpf calls. They touch every kind of memory the engines check — stack, packet (through the
/// 32-bit <c>data</c> load), <c>__sk_buff</c> (readable, writable and read-only fields), a map value — with
/// offsets that are sometimes out of bounds, misaligned or read-only, so runs fault as well as finish; packet and
/// map value accesses behind the checks the verifier proves accesses with (data + n against data_end, NULL),
/// now and then one byte past what the check covers, helpers that move or resize the packet, and bpf_skb_load_bytes
/// (which the JIT compiles inline), lookups, updates and deletes in an array and a hash map, lookups in an IPv4
/// LPM trie (lookups in all three compiled inline), bpf_redirect (inline too), legacy packet loads (LD_ABS /
/// LD_IND, inline inside the packet), and callbacks: bpf_loop (compiled inline) and bpf_for_each_map_elem over the
/// array or the hash, with a context on the stack or the map value (NULL now and then), counts from 0 to past the
/// kernel's limit, bad flags, callbacks that stop early, loop, delete elements or return a verdict above 1 (now and
/// then called through callx).
/// Fixed roles: r9 = ctx, r8 = packet data, r6 = a map value (or NULL); r0–r5 and r7 are scratch.
/// <para>With <paramref name="kernelVerifiable"/> it generates only what the kernel's verifier can prove too (the
/// kernel differential loads them into both): the 64-byte stack frame written before anything reads it, scratch
/// registers always scalars (no pointer in an ALU op, a comparison, a store or a helper's scalar argument),
/// packet and map value accesses only behind their checks and inside what the check covers, context reads at
/// fields a tc program may read (narrow ones too) and writes to writable ones, atomics only on the stack or a
/// checked map value, packet pointers loaded again after helpers that move the packet, unconditional jumps
/// (<c>ja</c>, <c>gotol</c>) over code a branch also reaches, no callbacks (the kernel wants BTF for them), and
/// bpf-to-bpf calls or legacy packet loads but not both in one program (the same), and r6 a value of the array only.
/// It also calls on the maps only it has (<see cref="KernelMaps"/>: per-CPU and LRU maps, a prog array) and tail-calls
/// (<see cref="NextGroup"/> gives a program with the programs its prog array holds). The other mode's stream of
/// programs is unchanged by this one.</para></summary>
public sealed class RandomPrograms(int seed, bool kernelVerifiable = false)
{
    private readonly Random _random = new(seed);
    private readonly bool _kernel = kernelVerifiable;

    /// <summary>The maps the programs use, by index: map[0] a 4-entry array, map[1] a hash (both 4-byte keys and
    /// 32-byte values), map[2] an IPv4 LPM trie (8-byte keys).</summary>
    public static IReadOnlyList<BpfMapDefinition> Maps { get; } =
    [
        new("values", BpfMapType.Array, 4, 32, 4),
        new("hash", BpfMapType.Hash, 4, 32, 8),
        new("lpm", BpfMapType.LpmTrie, 8, 32, 8, BpfMapFlags.NoPrealloc),
    ];

    /// <summary>Kernel mode's maps: <see cref="Maps"/>, then map[3] a 4-entry per-CPU array, map[4] a per-CPU hash,
    /// map[5] an LRU hash, map[6] an LRU per-CPU hash (4-byte keys, 32-byte values), map[7] the prog array the tail
    /// calls use (slots 0–2 hold <see cref="NextGroup"/>'s other programs, slot 3 stays empty) and map[8] a one-word
    /// array the tail-call chain counts its runs in. The LRU maps are sized (128) so that no program fills them: the
    /// kernel evicts before a map is full only once a CPU's free list (its first 128 free elements) is used up, and
    /// which element it evicts then is its own business; a program makes a few dozen updates at most.</summary>
    public static IReadOnlyList<BpfMapDefinition> KernelMaps { get; } =
    [
        .. Maps,
        new("percpu", BpfMapType.PercpuArray, 4, 32, 4),
        new("percpu_hash", BpfMapType.PercpuHash, 4, 32, 8),
        new("lru", BpfMapType.LruHash, 4, 32, 128),
        new("lru_percpu", BpfMapType.LruPercpuHash, 4, 32, 128),
        new("progs", BpfMapType.ProgArray, 4, 4, TailSlots),
        new("chain", BpfMapType.Array, 4, 8, 1),
    ];

    /// <summary>The prog array's size: slots 0..2 filled by a group with callees, 3 empty.</summary>
    public const int TailSlots = 4;

    /// <summary>What the chain program (slot 2) returns once the kernel's limit of 33 tail calls stops it calling itself.</summary>
    public const uint ChainVerdict = 0xc4a1;

    /// <summary>Kernel mode's maps before a run (<see cref="KernelMaps"/>, <paramref name="cpus"/> slots per per-CPU
    /// value, as user space writes them): <see cref="InitialEntries"/>, then keys 0..3 of the per-CPU array, keys 0..2
    /// of the per-CPU hash and keys 0..3 of both LRU maps, each CPU's value a different 32 bytes of <paramref name="content"/>;
    /// the chain's count 0.</summary>
    public static IEnumerable<(int Map, byte[] Key, byte[] Value)> KernelInitialEntries(byte[] content, int cpus)
    {
        foreach (var entry in InitialEntries(content)) yield return entry;
        byte[] Value(int seed, bool perCpu)
        {
            var value = new byte[perCpu ? 32 * cpus : 32];
            for (int i = 0; i < value.Length; i++) value[i] = content[(seed * 37 + i * 5 + i / 32 * 11) % content.Length];
            return value;
        }
        for (int i = 0; i < 4; i++)
        {
            yield return (3, BitConverter.GetBytes(i), Value(i, true));
            if (i < 3) yield return (4, BitConverter.GetBytes(i), Value(i + 4, true));
            yield return (5, BitConverter.GetBytes(i), Value(i + 8, false));
            yield return (6, BitConverter.GetBytes(i), Value(i + 12, true));
        }
        yield return (8, BitConverter.GetBytes(0), new byte[8]);
    }

    /// <summary>What the maps hold before a run, from 128 bytes of <paramref name="content"/>: the array keys 0..3 with
    /// its four 32-byte values, the hash keys 0..3 with them reversed, the trie 10.0.0.0/8, 10.0.1.0/24 and
    /// 10.0.1.1/32 with values 0..2.</summary>
    public static IEnumerable<(int Map, byte[] Key, byte[] Value)> InitialEntries(byte[] content)
    {
        for (int i = 0; i < 4; i++)
        {
            yield return (0, BitConverter.GetBytes(i), content[(i * 32)..(i * 32 + 32)]);
            yield return (1, BitConverter.GetBytes(i), content[((3 - i) * 32)..((3 - i) * 32 + 32)]);
        }
        yield return (2, [8, 0, 0, 0, 10, 0, 0, 0], content[0..32]);
        yield return (2, [24, 0, 0, 0, 10, 0, 1, 0], content[32..64]);
        yield return (2, [32, 0, 0, 0, 10, 0, 1, 1], content[64..96]);
    }
    private readonly StringBuilder _text = new();
    private int _labels;

    private static readonly string[] AluOps = ["add", "sub", "mul", "or", "and", "xor", "lsh", "rsh", "arsh", "mov", "div", "mod", "sdiv", "smod"];
    private static readonly string[] Jumps = ["jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"];
    private static readonly int[] Scratch = [0, 1, 2, 3, 4, 5, 7];

    public string Next(int length)
    {
        _text.Clear();
        Line("mov %r9, %r1");
        Line("ldxw %r8, [%r9+76]");
        foreach (int r in Scratch) InitRegister(r);
        if (_kernel)
            for (int off = 8; off <= 64; off += 8) Line($"stxdw [%r10-{off}], {Reg(Pick(Scratch))}");
        // Kernel mode: bpf-to-bpf calls or legacy loads (the kernel refuses both in one program without BTF).
        bool legacyAllowed = !_kernel || _random.Next(2) == 0, callsAllowed = !_kernel || !legacyAllowed;
        // r6 = map value of key 0..4 in the array or the hash (4 is past the 4-entry array and not in the hash: NULL,
        // and using it faults). Kernel mode: the array only — the kernel's hash map update of an existing key links a new
        // element and frees the old one, which a pointer taken before still reaches (ours updates in place: a deliberate
        // difference, README), so a write through r6 after an update or delete of its key would differ.
        Line($"stw [%r10-4], {(_random.Next(10) == 0 ? 4 : _random.Next(4))}");
        Line($"lddw %r1, {(_kernel ? "map[0]" : Map())}");
        Line("mov %r2, %r10");
        Line("add %r2, -4");
        Line("call 1");
        Line("mov %r6, %r0");
        for (int r = 0; r <= 5; r++) InitRegister(r);
        bool subprogram = false;
        for (int i = 0; i < length; i++)
        {
            int kind = _random.Next(100);
            if (kind < 40) Alu(Pick(Scratch));
            else if (kind < 47) Load();
            else if (kind < 52) Guarded();
            else if (kind < 62) Store();
            else if (kind < 66) Atomic();
            else if (kind < 78) Branch(length - i);
            else if (kind < 82) Loop();
            else if (kind < 85) HelperCall();
            else if (kind < 88 && !callsAllowed) KernelMapCall(); // kernel mode only (the other mode allows calls)
            else if (kind < 88) { Line("call local sub"); for (int r = 1; r <= 5; r++) InitRegister(r); subprogram = true; }
            else if (kind < 90) Line($"add %r8, {(_kernel ? _random.Next(0, 3) : _random.Next(-2, 3))}");
            else if (kind < 93 && !legacyAllowed) KernelMapCall(); // kernel mode only (the other mode allows legacy loads)
            else if (kind < 93) LegacyLoad();
            else if (kind < 95 && _kernel) Precise();
            else if (kind < 95) CallbackCall();
            else Unary(Pick(Scratch));
        }
        while (_open.Count > 0) Line($"{_open.Pop()}:");
        Line("exit");
        if (_loopCallback) LoopCallback();
        if (_eachCallback) EachCallback();
        _loopCallback = _eachCallback = false;
        if (subprogram)
        {
            Line("sub:");
            Line("stxdw [%r10-8], %r1");
            Line("mov %r0, %r2");
            Line($"{Pick(AluOps)}{(_random.Next(2) == 0 ? "32" : "")} %r0, %r{_random.Next(6)}");
            Line("ldxdw %r3, [%r10-8]");
            Line("add %r0, %r3");
            Line("exit");
        }
        return _text.ToString();
    }

    /// <summary>Kernel mode: a program (<see cref="Next"/>) and the programs its prog array (map[7]) holds, slot i being
    /// program i + 1. Most groups have none (their tail calls find empty slots); one in eight has a generated program in
    /// slots 0 and 1 (shorter, tail-calling too, so chains and cycles form) and in slot 2 the chain (<see cref="Chain"/>),
    /// and its first program tail-calls more often. <see cref="Shapes"/> names what the group's programs do.</summary>
    public IReadOnlyList<string> NextGroup(int length)
    {
        if (!_kernel) throw new InvalidOperationException("groups of programs with tail calls are kernel mode's");
        Shapes.Clear();
        bool callees = _random.Next(8) == 0;
        _tailCallOften = callees;
        var group = new List<string> { Next(length) };
        if (callees)
        {
            if (Shapes.Contains("tail call to slot 0-2")) Shapes.Add("tail call into a program");
            group.Add(Next(5 + _random.Next(16)));
            group.Add(Next(5 + _random.Next(16)));
            group.Add(Chain());
        }
        _tailCallOften = false;
        return group;
    }

    /// <summary>Kernel mode: what the programs of the last <see cref="NextGroup"/> do among the shapes the kernel
    /// differential counts (per-CPU and LRU map calls, update flags, tail calls).</summary>
    public HashSet<string> Shapes { get; } = [];

    /// <summary>Every name <see cref="Shapes"/> may hold.</summary>
    public static IReadOnlyList<string> ShapeNames { get; } =
    [
        "per-CPU lookup", "per-CPU value write", "per-CPU update", "per-CPU delete", "LRU lookup", "LRU value write", "LRU update",
        "LRU delete", "lookup_percpu_elem current CPU", "lookup_percpu_elem other CPU", "lookup_percpu_elem out-of-range CPU",
        "smp_processor_id", "BPF_NOEXIST", "BPF_EXIST", "tail call to slot 0-2", "tail call into a program", "tail call to the empty slot",
        "tail call out of range",
    ];

    private bool _tailCallOften;

    /// <summary>Slot 2's program: adds 1 to map[8]'s word and to cb[0], then tail-calls itself; only the kernel's limit
    /// (33 tail calls in one run, the calls before it included) stops it, and it returns <see cref="ChainVerdict"/>.</summary>
    private static string Chain() => $"""
        mov %r9, %r1
        stw [%r10-4], 0
        lddw %r1, map[8]
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, +2
        mov %r1, 1
        lock add [%r0+0], %r1
        ldxw %r2, [%r9+48]
        add %r2, 1
        stxw [%r9+48], %r2
        mov %r1, %r9
        lddw %r2, map[7]
        mov %r3, 2
        call 12
        mov %r0, {ChainVerdict}
        exit

        """;

    /// <summary>Kernel mode: a call on the per-CPU and LRU maps or the prog array — a lookup (map_lookup_elem, or
    /// bpf_map_lookup_percpu_elem with the CPU bpf_get_smp_processor_id gives, the other one, a constant in or out of
    /// range, or any register) followed by a read, write or atomic through the value pointer behind its NULL check, an
    /// update with BPF_ANY, BPF_NOEXIST, BPF_EXIST or a bad flag, a delete (an array's: -EINVAL), bpf_get_smp_processor_id
    /// alone, or bpf_tail_call to a slot in range (filled when the group has callees), the empty one, past the end or
    /// from a register.</summary>
    private void KernelMapCall()
    {
        int key = _random.Next(8) == 0 ? _random.Next(4, 8) : _random.Next(4);
        int kind = _tailCallOften && _random.Next(2) == 0 ? 6 : _random.Next(7);
        switch (kind)
        {
            case 0:
            case 1:
            {
                int map = Pick(new[] { 3, 4, 5, 6 });
                Shapes.Add(map is 5 or 6 ? "LRU lookup" : "per-CPU lookup");
                Line($"stw [%r10-4], {key}");
                Line($"lddw %r1, map[{map}]");
                Line("mov %r2, %r10");
                Line("add %r2, -4");
                Line("call 1");
                ValueAccess(map);
                break;
            }
            case 2:
            {
                int map = Pick(new[] { 3, 4, 6 });
                Line($"stw [%r10-4], {key}");
                switch (_random.Next(4))
                {
                    case 0:
                    case 1:
                        Line("call 8");
                        if (_random.Next(3) == 0)
                        {
                            Line("xor %r0, 1"); // the other CPU of two (out of range on one)
                            Shapes.Add("lookup_percpu_elem other CPU");
                        }
                        else Shapes.Add("lookup_percpu_elem current CPU");
                        Line("mov %r3, %r0");
                        break;
                    case 2:
                        // The machine's CPU count is the first CPU past the end (the kernel's nr_cpu_ids).
                        int cpu = Pick(new[] { 0, 1, PossibleCpus.Count, PossibleCpus.Count, 64, 4096, -1 });
                        if (cpu < 0 || cpu >= PossibleCpus.Count) Shapes.Add("lookup_percpu_elem out-of-range CPU");
                        Line($"mov %r3, {cpu}");
                        break;
                    default:
                        Line($"mov %r3, {Reg(Pick(Scratch))}");
                        break;
                }
                Line($"lddw %r1, map[{map}]");
                Line("mov %r2, %r10");
                Line("add %r2, -4");
                Line("call 195");
                ValueAccess(map);
                break;
            }
            case 3:
            {
                int map = Pick(new[] { 0, 1, 3, 4, 5, 6 });
                string flags = UpdateFlags();
                if (map is >= 3) Shapes.Add(map is 5 or 6 ? "LRU update" : "per-CPU update");
                Line($"stw [%r10-4], {key}");
                Line($"lddw %r1, map[{map}]");
                Line("mov %r2, %r10");
                Line("add %r2, -4");
                Line("mov %r3, %r10");
                Line("add %r3, -40");
                Line($"mov %r4, {flags}");
                Line("call 2");
                break;
            }
            case 4:
            {
                int map = Pick(new[] { 3, 4, 5, 6 });
                Shapes.Add(map is 5 or 6 ? "LRU delete" : "per-CPU delete");
                Line($"stw [%r10-4], {key}");
                Line($"lddw %r1, map[{map}]");
                Line("mov %r2, %r10");
                Line("add %r2, -4");
                Line("call 3");
                break;
            }
            case 5:
                Shapes.Add("smp_processor_id");
                Line("call 8");
                break;
            default:
            {
                switch (_random.Next(6)) // r3 first: r1 and r2 become pointers
                {
                    case 0:
                    case 1:
                    case 2:
                        Shapes.Add("tail call to slot 0-2");
                        Line($"mov %r3, {_random.Next(3)}");
                        break;
                    case 3:
                        Shapes.Add("tail call to the empty slot");
                        Line($"mov %r3, {TailSlots - 1}");
                        break;
                    case 4:
                        Shapes.Add("tail call out of range");
                        Line($"mov %r3, {Pick(new[] { TailSlots, 100, -1 })}");
                        break;
                    default:
                        Line($"mov %r3, {Reg(Pick(Scratch))}");
                        if (_random.Next(2) == 0) Line($"and %r3, {TailSlots - 1}");
                        break;
                }
                Line("mov %r1, %r9");
                Line("lddw %r2, map[7]");
                Line("call 12");
                InitRegister(0); // a tail call that falls through leaves r0 unwritten (the kernel's verifier: not readable)
                break;
            }
        }
        for (int r = 1; r <= 5; r++) InitRegister(r);
        Line("ldxw %r8, [%r9+76]");
    }

    /// <summary>Kernel mode: bpf_map_update_elem's flags — BPF_ANY, BPF_NOEXIST, BPF_EXIST, or a bad one (3; BPF_F_LOCK
    /// on a value without a spin lock): -EINVAL, except where the map's own checks come first (an array index past the
    /// end is -E2BIG).</summary>
    private string UpdateFlags()
    {
        int flags = Pick(new[] { 0, 0, 1, 1, 2, 2, 3, 4 });
        if (flags == 1) Shapes.Add("BPF_NOEXIST");
        if (flags == 2) Shapes.Add("BPF_EXIST");
        return flags.ToString();
    }

    /// <summary>After a lookup into r0 (a value of <paramref name="map"/> or NULL): behind the NULL check a read, a
    /// store (register or immediate) or an atomic add through the pointer, then a word of the value into r0, so r0 is a
    /// scalar on both paths.</summary>
    private void ValueAccess(int map)
    {
        string skip = $"L{_labels++}";
        int s = _random.Next(4), size = 1 << s;
        int off = _random.Next(0, (32 - size) / size + 1) * size;
        Line($"jeq %r0, 0, {skip}");
        int src = 7; // the one scratch register a call leaves readable besides r0
        switch (_random.Next(4))
        {
            case 0:
                Line($"ldx{Sizes[s]} %r0, [%r0+{off}]");
                Line($"{skip}:");
                return;
            case 1: Line($"stx{Sizes[s]} [%r0+{off}], {Reg(src)}"); break;
            case 2: Line($"st{Sizes[s]} [%r0+{off}], {Imm()}"); break;
            default:
                bool w = _random.Next(2) == 0;
                Line($"lock {Pick(new[] { "add", "xor", "fetch add" })}{(w ? "32" : "")} [%r0+{_random.Next(w ? 8 : 4) * (w ? 4 : 8)}], {Reg(src)}");
                break;
        }
        Shapes.Add(map is 5 or 6 ? "LRU value write" : "per-CPU value write");
        Line($"ldxdw %r0, [%r0+{8 * _random.Next(4)}]");
        Line($"{skip}:");
    }

    private readonly Stack<string> _open = new();
    private bool _loopCallback, _eachCallback;

    /// <summary>bpf_loop(count, cb, ctx, flags) or bpf_for_each_map_elem(map, each, ctx, flags); r0 = its result and
    /// r1–r5 written again afterwards (a call leaves them unreadable).</summary>
    private void CallbackCall()
    {
        bool loop = _random.Next(3) > 0;
        if (loop)
        {
            switch (_random.Next(8))
            {
                case 0:
                    Line($"mov %r1, {Reg(Pick(Scratch))}");
                    Line("and %r1, 7");
                    break;
                case 1: Line($"lddw %r1, {Pick(new[] { "0x800001", "0x100000002" })}"); break; // -E2BIG; a u32 of 2
                default: Line($"mov %r1, {_random.Next(0, 6)}"); break;
            }
            Line("lddw %r2, func cb");
            _loopCallback = true;
        }
        else
        {
            Line($"lddw %r1, {Map()}");
            Line("lddw %r2, func each");
            _eachCallback = true;
        }
        if (_random.Next(12) == 0) Line("mov %r3, %r6");
        else
        {
            Line("mov %r3, %r10");
            Line($"add %r3, -{8 * _random.Next(1, 9)}");
        }
        Line($"mov %r4, {(_random.Next(15) == 0 ? 1 : 0)}");
        int helper = loop ? 181 : 164;
        if (_random.Next(6) == 0)
        {
            Line($"mov %r5, {helper}"); // callx: the helper's id in a register
            Line("call %r5");
        }
        else Line($"call {helper}");
        for (int r = 1; r <= 5; r++) InitRegister(r);
    }

    /// <summary>bpf_loop's callback: folds the index into the word at ctx, sometimes in a loop of its own; stops at
    /// an index, goes on, or returns the word's low two bits (above 1: the run faults).</summary>
    private void LoopCallback()
    {
        Line("cb:");
        Line("stxdw [%r10-8], %r1");
        Line("ldxdw %r3, [%r2+0]");
        if (_random.Next(3) == 0)
        {
            Line($"mov %r4, {_random.Next(1, 5)}");
            Line("cbl:");
            Line($"{Pick(new[] { "add", "xor", "mul", "sub" })} %r3, %r1");
            Line("sub %r4, 1");
            Line("jne %r4, 0, cbl");
        }
        else Line($"{Pick(AluOps)} %r3, %r1");
        Line("stxdw [%r2+0], %r3");
        Line("ldxdw %r1, [%r10-8]");
        VerdictOf("%r1", "%r3");
    }

    /// <summary>bpf_for_each_map_elem's callback: adds the key to an 8-byte word of the value and the value to the
    /// word at ctx; now and then deletes the element whose key is this one's ^ 1 from the hash (skipped if not yet
    /// visited); a verdict as <see cref="LoopCallback"/>'s.</summary>
    private void EachCallback()
    {
        int word = 8 * _random.Next(4);
        Line("each:");
        Line("ldxw %r9, [%r2+0]");
        Line($"ldxdw %r5, [%r3+{word}]");
        Line("add %r5, %r9");
        Line($"stxdw [%r3+{word}], %r5");
        Line("ldxdw %r0, [%r4+0]");
        Line("add %r0, %r5");
        Line("stxdw [%r4+0], %r0");
        if (_random.Next(3) == 0)
        {
            Line("mov %r1, %r9");
            Line("xor %r1, 1");
            Line("stxw [%r10-4], %r1");
            Line("lddw %r1, map[1]");
            Line("mov %r2, %r10");
            Line("add %r2, -4");
            Line("call 3");
        }
        Line("mov %r8, %r0");
        VerdictOf("%r9", "%r8");
    }

    /// <summary>r0 = 1 when <paramref name="index"/> is a chosen value (else 0), or 0, or <paramref name="word"/>'s low
    /// two bits; then exit.</summary>
    private void VerdictOf(string index, string word)
    {
        switch (_random.Next(8))
        {
            case 0:
                Line($"mov %r0, {word}");
                Line("and %r0, 3");
                break;
            case 1:
                Line("mov %r0, 0");
                break;
            default:
                Line("mov %r0, 0");
                Line($"jne {index}, {_random.Next(0, 5)}, +1");
                Line("mov %r0, 1");
                break;
        }
        Line("exit");
    }

    private void Line(string line) => _text.Append(line).Append('\n');

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    /// <summary>map[0], the 4-entry array, or map[1], the hash with keys 0..3 (both with 4-byte keys and 32-byte values).</summary>
    private string Map() => _random.Next(3) == 0 ? "map[1]" : "map[0]";

    private string Reg(int r) => $"%r{r}";

    /// <summary>Any register (r0–r10) as a source, or in kernel mode only a scratch register, which always holds a scalar.</summary>
    private int Source() => _kernel ? Pick(Scratch) : _random.Next(10);

    private void InitRegister(int r)
    {
        if (_random.Next(4) == 0) Line($"lddw %r{r}, 0x{(ulong)_random.NextInt64() ^ ((ulong)_random.Next() << 40):x}");
        else Line($"mov %r{r}, {Imm()}");
    }

    private long Imm() => _random.Next(6) switch
    {
        0 => 0,
        1 => -1,
        2 => _random.Next(-4, 5),
        3 => int.MinValue,
        4 => _random.Next(1, 64),
        _ => _random.Next(int.MinValue, int.MaxValue),
    };

    private void Alu(int dst)
    {
        string op = Pick(AluOps);
        string w = _random.Next(3) == 0 ? "32" : "";
        bool shift = op is "lsh" or "rsh" or "arsh";
        if (_random.Next(2) == 0)
        {
            long imm = shift ? _random.Next(w == "32" ? 32 : 64) : Imm();
            if (op is "div" or "mod" or "sdiv" or "smod" && imm == 0) imm = 3;
            Line($"{op}{w} {Reg(dst)}, {imm}");
        }
        else
        {
            int src = Source();
            Line($"{op}{w} {Reg(dst)}, {Reg(src)}");
        }
    }

    private void Unary(int dst)
    {
        switch (_random.Next(5))
        {
            case 0: Line($"neg{(_random.Next(2) == 0 ? "32" : "")} {Reg(dst)}"); break;
            case 1: Line($"{Pick(new[] { "movsx864", "movsx1664", "movsx3264", "movsx832", "movsx1632" })} {Reg(dst)}, {Reg(Source())}"); break;
            case 2: Line($"{Pick(new[] { "le", "be", "bswap" })}{Pick(new[] { 16, 32, 64 })} {Reg(dst)}"); break;
            case 3: Line($"mov32 {Reg(dst)}, {Reg(Source())}"); break;
            default: Line($"lddw {Reg(dst)}, 0x{(ulong)_random.NextInt64():x}"); break;
        }
    }

    /// <summary>A base register and offset: stack, packet, map value or ctx.</summary>
    private (int Base, int Offset) Place(int size, bool forWrite)
    {
        if (_kernel)
            // Stack or (reads) context; packet and map value accesses only behind their checks (Guarded).
            return forWrite || _random.Next(3) > 0 ? (10, -_random.Next(1, 9) * 8 + (_random.Next(4) == 0 ? _random.Next(8) & ~(size - 1) : 0)) : (9, Pick(ScalarContext));
        switch (_random.Next(forWrite ? 3 : 4))
        {
            case 0: return (10, -_random.Next(1, 9) * 8 + (_random.Next(4) == 0 ? _random.Next(8) & ~(size - 1) : 0));
            case 1: return (8, _random.Next(30) == 0 ? _random.Next(-4, 72) : _random.Next(0, 64 - size));
            case 2: return (6, _random.Next(30) == 0 ? _random.Next(-2, 36) : _random.Next(0, 32 - size));
            default: return (9, Pick(ReadableContext));
        }
    }

    private static readonly string[] Sizes = ["b", "h", "w", "dw"];

    /// <summary>4-byte __sk_buff fields a tc program may read (the verifier refuses the rest at load).</summary>
    private static readonly int[] ReadableContext = [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 160, 164, 176];

    /// <summary>The readable ones that hold scalars (not data and data_end, which are pointers).</summary>
    private static readonly int[] ScalarContext = [.. ReadableContext.Where(off => off is not (76 or 80))];

    /// <summary>Writable ones: mark, queue_mapping, priority, tc_index, cb[], tc_classid (three are narrow fields).</summary>
    private static readonly int[] WritableContext = [8, 12, 32, 44, 48, 52, 56, 60, 64, 72];

    private void Load()
    {
        int s = _random.Next(4);
        var (b, off) = Place(1 << s, false);
        if (b == 9 && _kernel && s < 2 && _random.Next(2) == 0)
            off += _random.Next(4) & ~((1 << s) - 1); // a narrow read: a byte or half of the field
        else if (b == 9 && _kernel && _random.Next(12) == 0)
            (s, off) = (3, 152); // tstamp, 8 bytes
        else if (b == 9) s = 2;
        string sx = s < 3 && b != 9 && _random.Next(4) == 0 ? "s" : "";
        if (b == 10 && off + (1 << s) > 0) off = -8;
        Line($"ldx{sx}{Sizes[s]} {Reg(Pick(Scratch))}, [{Reg(b)}{off:+0;-0}]");
    }

    private void Store()
    {
        int s = _random.Next(4);
        if (!_kernel && _random.Next(40) == 0)
        {
            // The context pointer through the stack: only the run-time check sees this store to a read-only field.
            int r = Pick(Scratch);
            Line("stxdw [%r10-48], %r9");
            Line($"ldxdw {Reg(r)}, [%r10-48]");
            Line($"stw [{Reg(r)}+{Pick(new[] { 0, 4, 16, 76 })}], {Imm()}");
            return;
        }
        var (b, off) = _random.Next(6) == 0 ? (9, Pick(WritableContext)) : Place(1 << s, true);
        if (b == 10 && off + (1 << s) > 0) off = -8;
        if (b == 9) s = 2;
        if (b == 9 && _kernel && _random.Next(10) == 0) (s, off) = (3, 152); // tstamp, 8 bytes
        if (_random.Next(3) == 0) Line($"st{Sizes[s]} [{Reg(b)}{off:+0;-0}], {Imm()}");
        else Line($"stx{Sizes[s]} [{Reg(b)}{off:+0;-0}], {Reg(Source())}");
    }

    private void Atomic()
    {
        bool w = _random.Next(2) == 0;
        int size = w ? 4 : 8;
        var (b, off) = _random.Next(2) == 0 ? (10, -8 * _random.Next(1, 9)) : (6, _random.Next(0, 5) * size);
        if (_kernel && b == 6 && off + size > 32) off = 0;
        if (!_kernel && _random.Next(40) == 0) off += 2; // misaligned: faults in both engines
        if (b == 10 && off + size > 0) off = -8;
        string op = Pick(new[] { "add", "or", "and", "xor", "fetch add", "fetch or", "fetch and", "fetch xor", "xchg", "cmpxchg" });
        string skip = $"L{_labels++}";
        if (_kernel && b == 6) Line($"jeq %r6, 0, {skip}");
        Line($"lock {op}{(w ? "32" : "")} [{Reg(b)}{off:+0;-0}], {Reg(Pick(Scratch))}");
        if (_kernel && b == 6) Line($"{skip}:");
    }

    private void Branch(int remaining)
    {
        string label = $"L{_labels++}";
        string w = _random.Next(3) == 0 ? "32" : "";
        string rhs = _random.Next(2) == 0 ? Imm().ToString() : Reg(Source());
        if (_kernel && remaining >= 4 && _random.Next(5) == 0)
        {
            // ja or gotol over code the conditional branch reaches (code nothing reaches the kernel refuses).
            string inside = $"L{_labels++}";
            Line($"{Pick(Jumps)}{w} {Reg(Source())}, {rhs}, {inside}");
            Line($"{Pick(new[] { "ja", "ja32" })} {label}");
            Line($"{inside}:");
            for (int k = _random.Next(1, 4); k > 0; k--) Alu(Pick(Scratch));
            Line($"{label}:");
            return;
        }
        Line($"{Pick(Jumps)}{w} {Reg(Source())}, {rhs}, {label}");
        // The target: a few instructions on, or the end of the program.
        if (_random.Next(4) == 0 || remaining < 4) _open.Push(label);
        else
        {
            int skip = _random.Next(1, 4);
            for (int k = 0; k < skip; k++) Alu(Pick(Scratch));
            Line($"{label}:");
        }
    }

    private void Loop()
    {
        string label = $"L{_labels++}";
        Line($"mov %r7, {_random.Next(1, 20)}");
        Line($"{label}:");
        int body = _random.Next(1, 4);
        for (int k = 0; k < body; k++)
        {
            if (_random.Next(3) == 0) Line($"stxdw [%r10-{8 * _random.Next(1, 9)}], {Reg(Pick(Scratch))}");
            else Alu(Pick(new[] { 0, 1, 2, 3, 4, 5 }));
        }
        Line("sub %r7, 1");
        Line($"jne %r7, 0, {label}");
    }

    /// <summary>A packet access behind a check of data + n against data_end (in either direction and operand order)
    /// or a map value access behind a NULL check — the pattern the verifier proves — usually inside what the check
    /// covers, now and then one byte past it.</summary>
    private void Guarded()
    {
        string skip = $"L{_labels++}";
        int s = _random.Next(4), size = 1 << s;
        int value = Pick(Scratch);
        bool store = _random.Next(3) == 0;
        string Access(int b, int off) => store
            ? $"stx{Sizes[s]} [{Reg(b)}{off:+0;-0}], {Reg(value)}"
            : $"ldx{Sizes[s]} {Reg(value)}, [{Reg(b)}{off:+0;-0}]";
        if (_random.Next(4) == 0)
        {
            Line($"jeq %r6, 0, {skip}");
            Line(Access(6, !_kernel && _random.Next(20) == 0 ? 32 - size + 1 : _random.Next(0, 32 - size + 1)));
            Line($"{skip}:");
            return;
        }
        int end = Pick(Scratch), p = Pick(Scratch.Where(r => r != end).ToArray());
        if (_kernel && store && (value == end || value == p)) value = Pick(Scratch.Where(r => r != end && r != p).ToArray()); // a pointer stored in the packet
        int n = _random.Next(1, 72);
        int off = !_kernel && _random.Next(15) == 0 ? Math.Max(0, n - size + 1) : _random.Next(0, Math.Max(1, n - size + 1));
        if (_kernel && off + size > n) n = off + size;
        Line($"ldxw {Reg(end)}, [%r9+80]");
        Line($"mov {Reg(p)}, %r8");
        Line($"add {Reg(p)}, {n}");
        switch (_random.Next(4))
        {
            case 0: Line($"jgt {Reg(p)}, {Reg(end)}, {skip}"); break;   // the access falls through with p <= end
            case 1: Line($"jlt {Reg(end)}, {Reg(p)}, {skip}"); break;
            case 2: Line($"jge {Reg(p)}, {Reg(end)}, {skip}"); break;
            default:
                // The access on the taken side: p <= end jumps to it.
                string inside = $"L{_labels++}";
                Line($"jle {Reg(p)}, {Reg(end)}, {inside}");
                Line($"ja {skip}");
                Line($"{inside}:");
                break;
        }
        Line(Access(8, off));
        Line($"{skip}:");
        if (_kernel)
        {
            // The packet and data_end pointers leave the scratch registers.
            InitRegister(p);
            InitRegister(end);
        }
    }

    /// <summary>Kernel mode: accesses the verifier must prove from tracked bounds rather than constants — a packet or
    /// map value pointer plus a scalar bounded by a mask or a branch, the stack at a variable (aligned) offset, and the
    /// context, packet and map value pointers spilled to the stack and filled back before use: the precision a verifier
    /// stricter than the kernel's would refuse. The pointers leave the scratch registers afterwards.</summary>
    private void Precise()
    {
        var free = Scratch.ToList();
        int Take() { int r = free[_random.Next(free.Count)]; free.Remove(r); return r; }
        int index = Take(), p = Take(), q = Take(), end = Take(), value = Take();
        string skip = $"L{_labels++}";
        int s = _random.Next(4), size = 1 << s;
        bool store = _random.Next(3) == 0;
        string Access(int b, int off) => store
            ? $"stx{Sizes[s]} [{Reg(b)}{off:+0;-0}], {Reg(value)}"
            : $"ldx{Sizes[s]} {Reg(value)}, [{Reg(b)}{off:+0;-0}]";
        int max = Pick(new[] { 3, 7, 15 });
        void Bound()
        {
            switch (_random.Next(3))
            {
                case 0: Line($"and {Reg(index)}, {max}"); break;
                case 1: Line($"and32 {Reg(index)}, {max}"); break;
                default: Line($"jgt {Reg(index)}, {max}, {skip}"); break; // falls through with index in [0, max]
            }
        }
        switch (_random.Next(5))
        {
            case 0:
            {
                // data + index, checked as a whole: (p = data + index) + off + size <= data_end.
                int off = _random.Next(0, 40);
                Bound();
                Line($"ldxw {Reg(end)}, [%r9+80]");
                Line($"mov {Reg(p)}, %r8");
                Line($"add {Reg(p)}, {Reg(index)}");
                Line($"mov {Reg(q)}, {Reg(p)}");
                Line($"add {Reg(q)}, {off + size}");
                Line($"jgt {Reg(q)}, {Reg(end)}, {skip}");
                Line(Access(p, off));
                break;
            }
            case 1:
            {
                // A map value (after its NULL check) plus index. (Not data + index after a check of data + max: adding
                // a variable to a packet pointer loses the range a check gave it, the kernel refuses that.)
                int off = _random.Next(0, 32 - size - max + 1);
                Line($"jeq %r6, 0, {skip}");
                Bound();
                Line($"mov {Reg(p)}, %r6");
                Line($"add {Reg(p)}, {Reg(index)}");
                Line(Access(p, off));
                break;
            }
            case 2:
            {
                // The stack at r10 - 64 + index, index a multiple of the access size (the kernel wants stack accesses aligned).
                int mask = 0x38 & ~(size - 1) | (size < 8 ? 0x7 & ~(size - 1) : 0);
                int off = _random.Next(0, (64 - mask - size) / size + 1) * size;
                Line($"and {Reg(index)}, {mask}");
                Line($"mov {Reg(p)}, %r10");
                Line($"add {Reg(p)}, -64");
                Line($"add {Reg(p)}, {Reg(index)}");
                Line(Access(p, off));
                break;
            }
            case 3:
                // The context pointer spilled and filled back, then a field read through it.
                Line("stxdw [%r10-72], %r9");
                Line($"ldxdw {Reg(p)}, [%r10-72]");
                Line($"ldxw {Reg(value)}, [{Reg(p)}+{Pick(ScalarContext)}]");
                break;
            default:
            {
                // The packet or the map value pointer spilled and filled back, then checked and used.
                if (_random.Next(2) == 0)
                {
                    int off = _random.Next(0, 40);
                    Line("stxdw [%r10-72], %r8");
                    Line($"ldxdw {Reg(p)}, [%r10-72]");
                    Line($"ldxw {Reg(end)}, [%r9+80]");
                    Line($"mov {Reg(q)}, {Reg(p)}");
                    Line($"add {Reg(q)}, {off + size}");
                    Line($"jgt {Reg(q)}, {Reg(end)}, {skip}");
                    Line(Access(p, off));
                }
                else
                {
                    Line("stxdw [%r10-72], %r6");
                    Line($"ldxdw {Reg(p)}, [%r10-72]");
                    Line($"jeq {Reg(p)}, 0, {skip}");
                    Line(Access(p, _random.Next(0, 32 - size + 1)));
                }
                break;
            }
        }
        Line($"{skip}:");
        foreach (int r in new[] { index, p, q, end }) InitRegister(r);
    }

    /// <summary>A legacy packet load (LD_ABS / LD_IND) with r6 the context for it (now and then still the map
    /// value: the run faults): offsets inside the packet, around its end, negative, relative to SKF_LL_OFF or
    /// SKF_NET_OFF, or anything; LD_IND through r0 set just before (small, negative, huge) or any register (the
    /// packet and stack pointers among them). Outside the packet the program ends with r0 = 0. Afterwards r6 is
    /// the map value again, r7 the loaded value, and r1–r5 (unreadable after the load, as after a call) are written again.</summary>
    private void LegacyLoad()
    {
        const int skfLlOff = -0x200000, skfNetOff = -0x100000;
        bool context = _kernel || _random.Next(12) != 0;
        if (context)
        {
            Line("mov %r7, %r6");
            Line("mov %r6, %r9");
        }
        string size = Pick(new[] { "b", "h", "w" });
        int Offset() => _random.Next(6) switch
        {
            0 or 1 => _random.Next(0, 64),
            2 => _random.Next(58, 70),
            3 => Pick(new[] { skfLlOff, skfNetOff }) + _random.Next(-2, 66),
            4 => _random.Next(-8, 0),
            _ => (int)Imm(),
        };
        if (_random.Next(2) == 0) Line($"ldabs{size} {Offset()}");
        else
        {
            int src = _kernel ? Pick(Scratch.Where(r => r != 7).ToArray()) : _random.Next(10); // r7 holds r6 here
            if (_random.Next(2) == 0)
            {
                src = 0;
                if (_random.Next(3) == 0) Line($"lddw %r0, 0x{(ulong)_random.NextInt64() << _random.Next(0, 40):x}");
                else Line($"mov %r0, {Offset()}");
            }
            Line($"ldind{size} {Reg(src)}, {(_random.Next(2) == 0 ? _random.Next(-4, 16) : Offset())}");
        }
        if (context)
        {
            Line("mov %r6, %r7");
            Line("mov %r7, %r0");
        }
        for (int r = 1; r <= 5; r++) InitRegister(r);
    }

    /// <summary>Kernel mode: helpers that find headers (the network header, which bpf_skb_change_head moves away from
    /// the packet start) or change them: bpf_skb_load_bytes_relative from the MAC or network header (or a bad start),
    /// bpf_skb_adjust_room (growing or shrinking at the MAC or network header, some flags, some invalid),
    /// bpf_skb_change_proto (IPv4 ↔ IPv6), bpf_skb_ecn_set_ce, bpf_skb_pull_data and bpf_csum_diff over the stack.</summary>
    private void HeaderHelperCall()
    {
        Line("mov %r1, %r9");
        switch (_random.Next(6))
        {
            case 0:
            {
                int room = 8 * _random.Next(1, 9);
                Line($"mov %r2, {(_random.Next(6) == 0 ? _random.Next(-4, 120) : _random.Next(0, 40))}");
                Line("mov %r3, %r10");
                Line($"add %r3, -{room}");
                Line($"mov %r4, {_random.Next(1, room + 1)}");
                Line($"mov %r5, {Pick(new[] { 0, 1, 1, 2 })}");
                Line("call 68");
                break;
            }
            case 1:
                Line($"mov %r2, {Pick(new[] { _random.Next(-40, 41), 4, -4, 8, -20, 20, 40 })}");
                Line($"mov %r3, {Pick(new[] { 0, 0, 1, 1, 2 })}");
                Line($"mov %r4, {Pick(new[] { 0, 0, 0, 1, 2, 4, 0x22, 0x80, 0x100, 0x20, 0x1000 })}");
                Line("call 50");
                break;
            case 2:
                Line($"mov %r2, {Pick(new[] { 0x0008, 0xdd86, 0x0608 })}"); // htons(IPv4), htons(IPv6), htons(ARP): -ENOTSUPP
                Line($"mov %r3, {(_random.Next(10) == 0 ? 1 : 0)}");
                Line("call 31");
                break;
            case 3:
                Line("call 97");
                break;
            case 4:
                Line($"mov %r2, {Pick(new[] { 0, 14, 34, 60, 200, _random.Next(0, 100) })}");
                Line("call 39");
                break;
            default:
            {
                // bpf_csum_diff(from, from_size, to, to_size, seed) over stack words.
                int from = 4 * _random.Next(0, 5), to = 4 * _random.Next(0, 5);
                Line("mov %r1, %r10");
                Line("add %r1, -64");
                Line($"mov %r2, {from}");
                Line("mov %r3, %r10");
                Line("add %r3, -32");
                Line($"mov %r4, {to}");
                InitRegister(5);
                Line("call 28");
                break;
            }
        }
    }

    private void HelperCall()
    {
        if (_kernel && _random.Next(3) == 0) HeaderHelperCall();
        else if (_random.Next(8) == 0)
        {
            // bpf_skb_change_tail / bpf_skb_change_head: the packet moves or changes length under r8.
            Line("mov %r1, %r9");
            Line($"mov %r2, {(_random.Next(2) == 0 ? _random.Next(14, 80) : _random.Next(0, 16))}");
            Line("mov %r3, 0");
            Line(_random.Next(2) == 0 ? "call 38" : "call 43");
        }
        else if (_random.Next(3) == 0)
        {
            // bpf_skb_load_bytes(ctx, offset, a stack buffer, len): usually inside the packet, now and then past its
            // end or before its start (the helper's error, not a fault); the buffer always inside the frame.
            int room = 8 * _random.Next(1, 9);
            Line("mov %r1, %r9");
            Line($"mov %r2, {(_random.Next(8) == 0 ? _random.Next(-4, 200) : _random.Next(0, 60))}");
            Line("mov %r3, %r10");
            Line($"add %r3, -{room}");
            Line($"mov %r4, {_random.Next(1, room + 1)}");
            Line("call 26");
        }
        else if (_random.Next(4) == 0)
        {
            // bpf_skb_store_bytes(ctx, offset, a stack buffer just written, len, flags): usually inside the packet,
            // now and then past its end (-EFAULT); flags BPF_F_RECOMPUTE_CSUM, BPF_F_INVALIDATE_HASH or invalid (-EINVAL).
            int words = _random.Next(1, 5);
            for (int w = 1; w <= words; w++) Line($"stxdw [%r10-{8 * w}], %r{Pick(Scratch)}");
            Line("mov %r1, %r9");
            Line($"mov %r2, {(_random.Next(8) == 0 ? _random.Next(-4, 200) : _random.Next(0, 60))}");
            Line("mov %r3, %r10");
            Line($"add %r3, -{8 * words}");
            Line($"mov %r4, {_random.Next(1, 8 * words + 1)}");
            Line($"mov %r5, {Pick(new[] { 0, 0, 0, 1, 2, 4 })}");
            Line("call 9");
        }
        else if (_random.Next(5) == 0)
        {
            // bpf_skb_vlan_push(ctx, proto, tci) (802.1Q, 802.1ad or another proto, which pushes 802.1Q; a second push
            // moves the offloaded tag into the frame) or bpf_skb_vlan_pop; then skb->vlan_present and vlan_tci into r7.
            Line("mov %r1, %r9");
            if (_random.Next(4) == 0) Line("call 19");
            else
            {
                Line($"mov %r2, {Pick(new[] { 0x0081, 0x0081, 0xa888, 0x0008, 0x1234081 })}");
                InitRegister(3);
                Line("call 18");
            }
            Line("ldxw %r7, [%r9+20]");
            Line("ldxw %r1, [%r9+24]");
            Line("lsh %r7, 16");
            Line("or %r7, %r1");
        }
        else if (_random.Next(3) == 0)
        {
            // bpf_l3_csum_replace / bpf_l4_csum_replace(ctx, offset, from, to, flags): a 2-byte field usually inside
            // the packet and even, now and then odd or past its end; sizes 4, 2 and 0 (from must then be 0); l4 with
            // BPF_F_PSEUDO_HDR, BPF_F_MARK_MANGLED_0 (a zero field stays, a zero result becomes 0xffff),
            // BPF_F_MARK_ENFORCE, or an invalid flag.
            bool l4 = _random.Next(2) == 0;
            Line("mov %r1, %r9");
            Line($"mov %r2, {(_random.Next(8) == 0 ? _random.Next(-4, 100) : 2 * _random.Next(0, 32))}");
            InitRegister(3);
            InitRegister(4);
            Line($"mov %r5, {(l4 ? Pick(new[] { 4, 4, 0x14, 0x24, 0x34, 0x64, 2, 0x100 }) : Pick(new[] { 4, 4, 4, 2, 0, 8 }))}");
            Line(l4 ? "call 11" : "call 10");
        }
        else if (_random.Next(6) == 0)
        {
            // bpf_redirect(ifindex, flags): flags other than BPF_F_INGRESS (1) give TC_ACT_SHOT and no redirect.
            InitRegister(1);
            Line($"mov %r2, {Pick(new[] { 0, 0, 1, 2, 3, -1 })}");
            Line("call 23");
        }
        else if (_random.Next(5) == 0)
        {
            // map_lookup_elem(lpm, &{prefixlen, 10.0.x.y}): the IPv4 LPM trie holds 10.0.0.0/8, 10.0.1.0/24 and
            // 10.0.1.1/32; prefix lengths below, at and above 32, addresses inside and outside them (NULL).
            Line($"stw [%r10-16], {Pick(new[] { 32, 32, 24, 8, 0, 40 })}");
            Line($"stw [%r10-12], {BitConverter.ToInt32([(byte)(_random.Next(8) == 0 ? 11 : 10), 0, (byte)_random.Next(3), (byte)_random.Next(3)])}");
            Line("lddw %r1, map[2]");
            Line("mov %r2, %r10");
            Line("add %r2, -16");
            Line("call 1");
            Line("jeq %r0, 0, +1");
            Line($"ldxdw %r0, [%r0+{_random.Next(4) * 8}]");
        }
        else if (_random.Next(6) == 0)
        {
            // map_delete_elem(hash, &key): the key's slot goes back to the free list (a later update takes it again).
            Line($"stw [%r10-4], {_random.Next(6)}");
            Line("lddw %r1, map[1]");
            Line("mov %r2, %r10");
            Line("add %r2, -4");
            Line("call 3");
        }
        else if (_random.Next(2) == 0)
        {
            // map_update_elem(map, &key, &value, 0) with the key at r10-4 and the value at r10-40 (a new key in
            // the hash: inserted).
            Line($"stw [%r10-4], {_random.Next(6)}");
            Line($"lddw %r1, {Map()}");
            Line("mov %r2, %r10");
            Line("add %r2, -4");
            Line("mov %r3, %r10");
            Line("add %r3, -40");
            Line($"mov %r4, {(_kernel ? UpdateFlags() : "0")}");
            Line("call 2");
        }
        else
        {
            Line($"stw [%r10-4], {_random.Next(6)}");
            Line($"lddw %r1, {Map()}");
            Line("mov %r2, %r10");
            Line("add %r2, -4");
            Line("call 1");
            Line("jeq %r0, 0, +1");
            Line($"ldxdw %r0, [%r0+{_random.Next(4) * 8}]");
        }
        for (int r = 1; r <= 5; r++) InitRegister(r);
        if (_kernel) Line("ldxw %r8, [%r9+76]"); // the kernel forgets packet pointers over a helper that may move the packet
    }
}
