using System.Runtime.InteropServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Jit;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;

namespace Appliance.Bpf.Vm;

/// <summary>A verified program, pre-decoded for the interpreter and bound to its maps and helper table.
/// Immutable and shareable between threads (each thread runs it on its own <see cref="BpfVm"/>).
/// <c>lddw src=1</c> becomes an opaque map handle, <c>lddw src=2</c> the virtual address of the map's entry 0
/// plus the offset (globals: <c>.data</c>/<c>.rodata</c>/<c>.bss</c>, read-only when the map says so).</summary>
public sealed class LoadedProgram
{
    private LoadedProgram(string name, string section, DecodedInstruction[] code, IReadOnlyList<BpfMap> maps,
        GlobalRegion[] globals, BpfHelperTable helpers, int instructionCount, StackUsage stack)
    {
        Stack = stack;
        Name = name;
        Section = section;
        Code = code;
        Maps = maps;
        Globals = globals;
        Helpers = helpers;
        InstructionCount = instructionCount;
    }

    public string Name { get; }
    public string Section { get; }
    public IReadOnlyList<BpfMap> Maps { get; }
    public BpfHelperTable Helpers { get; }

    /// <summary>The stack the program can reach: the VM clears that much before every run and tail call, and its
    /// stack region ends there (see <see cref="StackUsage"/>).</summary>
    public StackUsage Stack { get; }

    /// <summary>Number of instruction slots (an lddw counts as two).</summary>
    public int InstructionCount { get; }

    internal DecodedInstruction[] Code { get; }

    internal unsafe DecodedInstruction* CodePointer =>
        (DecodedInstruction*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Code));

    /// <summary>The programs a <c>bpf_tail_call</c> from this one may enter, by the index a prog-array map
    /// stores (the program's index in its object). Set once by whoever loads the object.</summary>
    public IReadOnlyList<LoadedProgram?> TailCallTargets { get; set; } = [];
    internal GlobalRegion[] Globals { get; }

    /// <summary>Sorted instruction indices where the program's callbacks start (lddw src=4 targets).</summary>
    internal int[] CallbackEntries { get; private init; } = [];

    /// <summary>True when the program passes callbacks to bpf_loop or bpf_for_each_map_elem.</summary>
    public bool UsesCallbacks => CallbackEntries.Length > 0;

    /// <summary>True when <paramref name="address"/> is the address of one of the program's callbacks.</summary>
    internal bool IsCallback(ulong address, out int entry)
    {
        entry = VirtualAddress.FunctionIndex(address);
        return entry >= 0 && Array.BinarySearch(CallbackEntries, entry) >= 0;
    }

    private JitCompilation? _jit;

    /// <summary>The program's native code (compiled at load on machines the JIT supports), or null.</summary>
    internal ExecutableMemory? JitCode => Jit.Code;

    /// <summary>The program's compilation: its native code (or why there is none) and what a run must prepare for it.
    /// Read on every run: inlined, with the compilation itself out of line.</summary>
    internal JitCompilation Jit
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => _jit ?? Compile();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private JitCompilation Compile() => _jit ??= BpfJit.Compile(this);

    /// <summary>Unmaps the program's native code now (<see cref="Maps.RetiredMemory"/>, once no run can be in it or enter
    /// it): the program must not run afterwards.</summary>
    internal void FreeCode() => _jit?.Code?.Free();

    /// <summary>True when the JIT compiled this program; a VM with <see cref="BpfVmOptions.UseJit"/> runs the native code.</summary>
    public bool IsJitCompiled => JitCode is not null;

    /// <summary>The engine that runs this program on a VM whose <see cref="BpfVmOptions.UseJit"/> is
    /// <paramref name="useJit"/>: "jit" (its native code) or "interpreter" (the JIT is off, or could not compile it).</summary>
    public string EngineName(bool useJit) => useJit && IsJitCompiled ? "jit" : "interpreter";

    /// <summary>How many loads, stores and atomics the JIT compiled with a run-time bounds check: those the
    /// verifier could not prove inside the packet, the stack or a map value (0 when the JIT did not compile it).</summary>
    public int JitCheckedAccesses => Jit.CheckedAccesses;

    /// <summary>Loads, stores and atomics the verifier proved in bounds (compiled code translates them without a check).</summary>
    public int ProvenAccesses => AccessProofs.Count(p => p != AccessProof.None);

    /// <summary>Why the JIT did not compile this program (the interpreter runs it), or null when it did.</summary>
    public string? JitUnavailableReason => Jit.Reason;

    /// <summary>Verifies <paramref name="image"/> (throws <see cref="BpfVerifierException"/>) and decodes it.
    /// <paramref name="maps"/> are the object's live maps in declaration order (the image's map indices).</summary>
    public static LoadedProgram Load(BpfProgramImage image, IReadOnlyList<BpfMap> maps, BpfHelperTable helpers, BpfVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var stack = BpfVerifier.Verify(image, [.. maps.Select(ValueShape)],
            [.. maps.Select(m => new MapIdentity(m.Name, m.Type, m.Definition.ProgramsMayWrite))], helpers, options, out var contextAccesses, out var accessProofs, out var deadCode);
        ulong[] raw = image.Instructions;
        // Pinned (never moves), so the interpreter can walk it with a pointer.
        var code = GC.AllocateArray<DecodedInstruction>(raw.Length + 1, pinned: true);
        var globals = new List<GlobalRegion>();
        bool usesContext = false;
        for (int i = 0; i < raw.Length; i++)
        {
            var ins = BpfInstruction.Decode(raw[i]);
            VmOp op = OpcodeClassifier.Classify(ins, out _);
            if (deadCode[i])
            {
                // Never run (the verifier did not check it): a fault if it ever were, as the kernel's sanitize_dead_code.
                code[i] = new DecodedInstruction { Op = VmOp.Invalid };
                if (op == VmOp.LoadImm64) code[++i] = new DecodedInstruction { Op = VmOp.Invalid };
                continue;
            }
            var d = new DecodedInstruction { Op = op, Dst = ins.Dst, Src = ins.Src, Offset = ins.Offset, Imm = ins.Imm };
            if (contextAccesses.TryGetValue(i, out short contextOffset))
            {
                d.Offset = contextOffset;
                d.Op = ContextOp(op, contextOffset);
                usesContext = true;
            }
            switch (op)
            {
                case VmOp.Ja:
                    d.Offset = i + 1 + (ins.Opcode == BpfOpcodes.Ja32 ? ins.Imm : ins.Offset);
                    break;
                case >= VmOp.Jeq64Imm and <= VmOp.Jsle32Reg:
                    d.Offset = i + 1 + ins.Offset;
                    break;
                case VmOp.CallLocal:
                    d.Offset = i + 1 + ins.Imm;
                    break;
                case VmOp.LoadImm64:
                    {
                        int nextImm = BpfInstruction.Decode(raw[i + 1]).Imm;
                        d.Imm = ins.Src switch
                        {
                            BpfOpcodes.PseudoMapFd => (long)(VirtualAddress.MapHandleBase | (uint)ins.Imm),
                            BpfOpcodes.PseudoMapValue => (long)GlobalAddress(image, i, maps, (int)ins.Imm, nextImm, globals),
                            BpfOpcodes.PseudoFunc => (long)(VirtualAddress.FunctionBase | (uint)(i + 1 + ins.Imm)),
                            _ => (long)((uint)ins.Imm | ((ulong)(uint)nextImm << 32)),
                        };
                        code[i] = d;
                        code[++i] = new DecodedInstruction { Op = VmOp.WideTail };
                        continue;
                    }
            }
            code[i] = d;
        }
        code[raw.Length] = new DecodedInstruction { Op = VmOp.Invalid };
        var program = new LoadedProgram(image.Name, image.Section, code, maps, [.. globals], helpers, raw.Length, stack)
        {
            AccessProofs = accessProofs,
            UsesContextDirectly = usesContext,
            CallbackEntries = [.. BpfVerifier.CallbackEntries(raw).Distinct().Order()],
        };
        // After verification, at load: the code is ready before the first run.
        program._jit = BpfJit.Compile(program);
        return program;
    }

    /// <summary>The shape of a lookup's value and of a value address for the map kinds whose values are exactly
    /// ValueSize bytes of the map's storage (the VM's region for them has that length); null for the rest.</summary>
    private static MapValueShape? ValueShape(BpfMap map) =>
        map is ArrayMap or HashMap or LruHashMap or PercpuHashMap or PercpuArrayMap or LpmTrieMap
            ? new MapValueShape(map.ValueSize, map.Definition.ProgramsMayWrite, map.Definition.ProgramsMayRead, ConstantValue(map))
            : null;

    /// <summary>The value of a read-only array with one element (.rodata), as it is at load: what the kernel calls a
    /// read-only map for constant-string arguments (BPF_F_RDONLY_PROG and frozen, direct value access); else null.</summary>
    private static byte[]? ConstantValue(BpfMap map)
    {
        if (map is not ArrayMap { MaxEntries: 1 } || !map.Definition.Frozen || map.Definition.ProgramsMayWrite) return null;
        var value = new byte[map.ValueSize];
        return map.TryLookupFromUser(stackalloc byte[4], value) ? value : null;
    }

    /// <summary>Per instruction, what the verifier proved about its memory access (the JIT drops the run-time
    /// check where it proved one).</summary>
    internal AccessProof[] AccessProofs { get; private init; } = [];

    /// <summary>The direct context operation for a verified context access (<see cref="VmOp.CtxLdx8"/>…).
    /// Loads of the 16-bit writable fields keep the ordinary load: a 4-byte store there settles later (see
    /// the VM's narrow-store handling), so their loads go through the checked path that settles it first.</summary>
    private static VmOp ContextOp(VmOp op, int offset)
    {
        bool narrowField = SkBuffLayout.IsNarrowWritableField(offset & ~3);
        return op switch
        {
            VmOp.Ldx8 when !narrowField => VmOp.CtxLdx8,
            VmOp.Ldx16 when !narrowField => VmOp.CtxLdx16,
            VmOp.Ldx32 when !narrowField => VmOp.CtxLdx32,
            VmOp.Ldx64 when !narrowField => VmOp.CtxLdx64,
            VmOp.St32 => narrowField ? VmOp.CtxStNarrow : VmOp.CtxSt32,
            VmOp.Stx32 => narrowField ? VmOp.CtxStxNarrow : VmOp.CtxStx32,
            VmOp.St64 => VmOp.CtxSt64,
            VmOp.Stx64 => VmOp.CtxStx64,
            _ => op,
        };
    }

    /// <summary>True when the loader turned context accesses into direct operations on the VM's
    /// <c>__sk_buff</c> shadow: such a program only runs with a packet (<see cref="BpfVm.Run(LoadedProgram, ref PacketContext)"/>).</summary>
    public bool UsesContextDirectly { get; private init; }

    /// <summary>Loads every program of <paramref name="obj"/> against its live <paramref name="maps"/> (same order
    /// as <see cref="BpfObject.Maps"/>) and binds their <see cref="TailCallTargets"/> to each other, so a
    /// prog-array value is the index of a program in <see cref="BpfObject.Programs"/>.</summary>
    public static IReadOnlyList<LoadedProgram> LoadAll(BpfObject obj, IReadOnlyList<BpfMap> maps, BpfHelperTable helpers, BpfVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var programs = obj.Programs.Select(image => Load(image, maps, helpers, options)).ToArray();
        foreach (var program in programs) program.TailCallTargets = programs;
        return programs;
    }

    private static ulong GlobalAddress(BpfProgramImage image, int index, IReadOnlyList<BpfMap> maps, int mapIndex, int offset, List<GlobalRegion> globals)
    {
        int regionIndex = globals.FindIndex(g => g.MapIndex == mapIndex);
        if (regionIndex < 0)
        {
            BpfMap map = maps[mapIndex];
            Span<byte> key = new byte[Math.Max(map.KeySize, 4)]; // at load; a hash key may be megabytes
            // Only arrays hand out a value's address at load (the kernel's map_direct_value_addr), and theirs is managed.
            if (!map.TryLookup(key[..map.KeySize], out var value) || value.Array is null)
                BpfVerifier.Fail(image.Instructions, BpfVerifier.Where(image), index, $"map '{map.Name}' has no entry 0 to take a value address of");
            globals.Add(new GlobalRegion(mapIndex, new ArraySegment<byte>(value.Array!, (int)value.Origin, value.Count), map.Definition.ProgramsMayWrite));
            regionIndex = globals.Count - 1;
        }
        var region = globals[regionIndex];
        if (offset < 0 || offset >= region.Value.Count)
            BpfVerifier.Fail(image.Instructions, BpfVerifier.Where(image), index, $"offset {offset} is outside the {region.Value.Count}-byte value of map '{maps[mapIndex].Name}'");
        return VirtualAddress.RegionBase(VirtualAddress.FirstProgramRegion + regionIndex) + (ulong)offset;
    }
}

/// <summary>A map value a program addresses directly (lddw src=2): global data sections.</summary>
internal readonly record struct GlobalRegion(int MapIndex, ArraySegment<byte> Value, bool Writable);
