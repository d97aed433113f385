using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;

namespace Appliance.Bpf.Verifier;

/// <summary>The value of a map's elements as a program sees it through a pointer: <see cref="Size"/> bytes,
/// writable or not (the VM's region for it has exactly that length and flag), readable or not (BPF_F_WRONLY_PROG:
/// reads are refused at load where this analysis places them). <see cref="Constant"/>: the one value of a read-only
/// single-element array (.rodata), fixed at load — where constant-string helper arguments point
/// (<see cref="HelperArgumentAnalysis"/>); null for any other map.</summary>
internal readonly record struct MapValueShape(int Size, bool Writable, bool Readable, byte[]? Constant = null);

/// <summary>Pointer kinds and ranges, like the kernel verifier's, for one purpose: proving loads and stores in
/// bounds so compiled code needs no run-time check for them (<see cref="AccessProof"/>). The VM checks every access
/// this analysis does not prove, exactly as before, so the analysis only has to be sound: when it does not know, the
/// access stays checked. One thing is refused here, as the kernel's check_map_access_type refuses it: an access in
/// code the verifier checks whose pointer is, on every path the analysis walks to it, into the value of a map whose
/// flags forbid it (a store or atomic into a map read-only to programs, a load or atomic from one write-only to
/// programs; a helper handed such a value to write or read, as its <see cref="HelperArgumentRule"/> says; a global
/// function handed either kind, which the kernel takes as one that may read and write it). The analysis walks paths
/// the kernel may prove impossible (by bit tracking, or per call of a static function), so such a program can be
/// refused here and taken there.
/// <para>A forward dataflow over basic blocks (states kept at leaders, blocks walked linearly) tracks per
/// register and per 8-byte slot of the function's own frame (spills of whole registers): scalars with unsigned
/// bounds; packet pointers (<c>data</c> + a bounded variable part named by the instruction that added it + a
/// fixed offset, with the bytes proven readable from data + variable part, learned from unsigned compares with
/// <c>data_end</c> on both branch directions, as the kernel's find_good_pkt_pointers); <c>data_end</c>; stack
/// pointers of the own frame with an offset range; map values (globals from lddw src 2, lookup results after the
/// NULL check) with an offset range and the value's size; lookup results before the check (NULL or a value,
/// named by the call); map handles. Scalar bounds are numeric facts true of any value, pointer or not. Branch
/// conditions refine scalars and prune edges that cannot be taken. Joins keep what both sides agree on; a state
/// that keeps changing at a leader is widened to unknown, and a program too large to analyse proves nothing.</para>
/// <para>What ends a fact: a helper that may move or resize the packet (anything outside
/// <see cref="KeepsPacket"/>) forgets every packet pointer and data_end, and so does a bpf-to-bpf call whose callee
/// may reach such a helper; helpers that may write memory, bpf-to-bpf calls and stores the analysis cannot place
/// forget the spilled slots; a call forgets r0–r5. Sub-programs start from the join of their call sites' r1–r5
/// (stack pointers into a caller's frame are not followed).</para></summary>
internal static class PointerAnalysis
{
    private const int Slots = BpfVerifier.StackSize / 8;
    private const int Width = 11 + Slots; // r0..r10, then the frame's 8-byte slots from fp-8 down
    private const int MaxPacketOffset = 0xFFFF;
    private const long MaxOffset = 1 << 29;
    private const int WidenAfter = 8;
    private const int MaxAnalysedInstructions = 200_000, MaxLeaders = 16_384;

    private enum Kind : byte { Scalar, Packet, PacketEnd, Stack, MapValue, MapValueOrNull, MapHandle }

    /// <summary>One abstract value. Scalar: unsigned bounds [Lo, Hi] (as ulong). Packet: data + variable part
    /// <see cref="Id"/> (0: none; at most <see cref="VarMax"/>) + Lo (= Hi), <see cref="Range"/> bytes proven from
    /// data + variable part. Stack: own r10 + [Lo, Hi]. MapValue: value + [Lo, Hi], <see cref="Range"/> = value
    /// size, <see cref="Writable"/> and <see cref="WriteOnly"/> the value's access, <see cref="Map"/> the map's index + 1
    /// (0: one of several). MapValueOrNull: named by <see cref="Id"/>. MapHandle: map <see cref="Id"/>.</summary>
    private readonly record struct Value(Kind Kind, long Lo, long Hi, int Id = 0, int Range = 0, int VarMax = 0, bool Writable = false,
        bool WriteOnly = false, int Map = 0)
    {
        public static readonly Value Unknown = new(Kind.Scalar, 0, -1);

        public static Value Scalar(ulong lo, ulong hi) => new(Kind.Scalar, (long)lo, (long)hi);

        public static Value Constant(ulong c) => new(Kind.Scalar, (long)c, (long)c);

        public ulong ULo => Kind == Kind.Scalar ? (ulong)Lo : 0;
        public ulong UHi => Kind == Kind.Scalar ? (ulong)Hi : ulong.MaxValue;
        public bool IsConstant => Kind == Kind.Scalar && Lo == Hi;
        public bool IsPointer => Kind is Kind.Packet or Kind.Stack or Kind.MapValue;
    }

    /// <summary>Per instruction, what was proven about its memory access (<see cref="AccessProof.None"/> for
    /// everything else). <paramref name="contextAccesses"/> are the proven context accesses (their original offset
    /// tells data and data_end loads apart); <paramref name="maps"/> the shape of each map's values, null where a
    /// map's lookups are not followed; <paramref name="identities"/> each map's name (for messages), null when unknown;
    /// <paramref name="globalFunctions"/> the global functions' starts and argument counts (a call hands them memory
    /// they may read and write); <paramref name="fail"/> refuses the program at an access its map's flags forbid, where
    /// <paramref name="checkedCode"/> says the verifier checks the instruction (not in code only a branch on constants
    /// reaches, which the kernel never visits).</summary>
    public static AccessProof[] Run(InstructionFacts[] facts, int[] functionOf, IReadOnlyDictionary<int, short> contextAccesses,
        IReadOnlyList<MapValueShape?> maps, IReadOnlyList<MapIdentity>? identities, BpfHelperTable helpers,
        IReadOnlyDictionary<int, int> globalFunctions, int frameBytes, bool[] checkedCode, Action<int, string> fail)
    {
        var proofs = new AccessProof[facts.Length];
        if (facts.Length > MaxAnalysedInstructions) return proofs;
        var analysis = new Analysis(facts, functionOf, contextAccesses, maps, helpers, globalFunctions, frameBytes);
        if (!analysis.Solve()) return proofs;
        analysis.Collect(proofs, identities, (i, why) => { if (checkedCode[i]) fail(i, why); });
        return proofs;
    }

    /// <summary>Helpers that never move or resize the packet (they never call <c>PacketChanged</c>), by the Linux ids.</summary>
    private static bool KeepsPacket(int helper) => (BpfHelperId)helper is BpfHelperId.MapLookupElem or BpfHelperId.MapUpdateElem
        or BpfHelperId.MapDeleteElem or BpfHelperId.KtimeGetNs or BpfHelperId.TracePrintk or BpfHelperId.TraceVprintk or BpfHelperId.GetPrandomU32
        or BpfHelperId.GetSmpProcessorId or BpfHelperId.GetNumaNodeId or BpfHelperId.L3CsumReplace or BpfHelperId.L4CsumReplace or BpfHelperId.Redirect
        or BpfHelperId.SkbLoadBytes or BpfHelperId.CsumDiff or BpfHelperId.CsumUpdate or BpfHelperId.CsumLevel or BpfHelperId.SkbLoadBytesRelative or BpfHelperId.FibLookup
        or BpfHelperId.MapPushElem or BpfHelperId.MapPopElem or BpfHelperId.MapPeekElem or BpfHelperId.Jiffies64
        or BpfHelperId.KtimeGetBootNs or BpfHelperId.KtimeGetCoarseNs or BpfHelperId.RedirectNeigh or BpfHelperId.RedirectPeer
        or BpfHelperId.RingbufOutput or BpfHelperId.PerfEventOutput or BpfHelperId.CheckMtu or BpfHelperId.MapLookupPercpuElem
        or BpfHelperId.KtimeGetTaiNs or BpfHelperId.Strncmp or BpfHelperId.Snprintf or BpfHelperId.RingbufQuery;

    /// <summary>Helpers that write no memory through their arguments (spilled slots survive them), by the Linux ids.</summary>
    private static bool WritesNoMemory(int helper) => (BpfHelperId)helper is BpfHelperId.MapLookupElem or BpfHelperId.MapUpdateElem
        or BpfHelperId.MapDeleteElem or BpfHelperId.KtimeGetNs or BpfHelperId.TracePrintk or BpfHelperId.TraceVprintk or BpfHelperId.GetPrandomU32
        or BpfHelperId.GetSmpProcessorId or BpfHelperId.GetNumaNodeId or BpfHelperId.Redirect or BpfHelperId.CsumDiff or BpfHelperId.CsumUpdate or BpfHelperId.CsumLevel or BpfHelperId.Jiffies64
        or BpfHelperId.KtimeGetBootNs or BpfHelperId.KtimeGetCoarseNs or BpfHelperId.RedirectPeer or BpfHelperId.RingbufOutput
        or BpfHelperId.MapPushElem or BpfHelperId.MapLookupPercpuElem or BpfHelperId.KtimeGetTaiNs or BpfHelperId.Strncmp
        or BpfHelperId.RingbufQuery;

    private sealed class Analysis(InstructionFacts[] facts, int[] functionOf, IReadOnlyDictionary<int, short> contextAccesses,
        IReadOnlyList<MapValueShape?> maps, BpfHelperTable helpers, IReadOnlyDictionary<int, int> globalFunctions, int frameBytes)
    {
        private readonly bool _linuxHelpers = helpers is LinuxHelperTable;
        private readonly int[] _leaderSlot = new int[facts.Length];
        private readonly List<Value[]?> _states = [];
        private readonly List<int> _visits = [];
        private readonly Stack<int> _work = new();
        private bool[] _changesPacket = [];
        private bool _collecting;

        public bool Solve()
        {
            int n = facts.Length;
            Array.Fill(_leaderSlot, -1);
            AddLeader(0);
            for (int i = 0; i < n; i++)
            {
                var f = facts[i];
                if (f.Target >= 0) AddLeader(f.Target);
                if ((f.IsConditionalJump || f.Op is VmOp.Ja or VmOp.Exit) && i + f.Width < n) AddLeader(i + f.Width);
            }
            if (_states.Count > MaxLeaders) return false;
            _changesPacket = FunctionsChangingPacket();

            var entry = Fresh();
            entry[10] = new Value(Kind.Stack, 0, 0);
            Merge(0, entry);
            // Callbacks (lddw src 4 targets) run from a helper with arguments this analysis does not follow.
            for (int i = 0; i < n; i++)
                if (facts[i].IsFunctionAddress)
                {
                    var callback = Fresh();
                    callback[10] = new Value(Kind.Stack, 0, 0);
                    Merge(facts[i].Target, callback);
                }

            long budget = 64L * n + 10_000;
            var cur = new Value[Width];
            while (_work.Count > 0)
            {
                int start = _work.Pop();
                _states[_leaderSlot[start]]!.CopyTo(cur, 0);
                int i = start;
                while (true)
                {
                    if (--budget < 0) return false;
                    if (!Step(i, cur, out int next)) break;
                    if (next < 0) break;
                    if (_leaderSlot[next] >= 0) { Merge(next, cur); break; }
                    i = next;
                }
            }
            return true;
        }

        /// <summary>Walks every reachable block once more with the final states and records what each access proves;
        /// <paramref name="fail"/> gets an access its map's flags forbid, with why.</summary>
        public void Collect(AccessProof[] proofs, IReadOnlyList<MapIdentity>? identities, Action<int, string> fail)
        {
            _collecting = true;
            var cur = new Value[Width];
            for (int start = 0; start < facts.Length; start++)
            {
                if (_leaderSlot[start] < 0 || _states[_leaderSlot[start]] is not { } state) continue;
                state.CopyTo(cur, 0);
                int i = start;
                while (true)
                {
                    proofs[i] = Proof(i, cur);
                    if (Forbidden(i, cur, identities) is { } why) fail(i, why);
                    if (!Step(i, cur, out int next) || next < 0 || _leaderSlot[next] >= 0) break;
                    i = next;
                }
            }
        }

        private void AddLeader(int index)
        {
            if (_leaderSlot[index] >= 0) return;
            _leaderSlot[index] = _states.Count;
            _states.Add(null);
            _visits.Add(0);
        }

        private static Value[] Fresh()
        {
            var s = new Value[Width];
            Array.Fill(s, Value.Unknown);
            return s;
        }

        private void Merge(int index, Value[] incoming)
        {
            if (_collecting) return; // the states are final
            int slot = _leaderSlot[index];
            var s = _states[slot];
            if (s is null)
            {
                _states[slot] = (Value[])incoming.Clone();
                _work.Push(index);
                return;
            }
            bool widen = ++_visits[slot] > WidenAfter;
            bool changed = false;
            for (int k = 0; k < Width; k++)
            {
                var joined = Join(s[k], incoming[k]);
                if (joined == s[k]) continue;
                s[k] = widen ? Value.Unknown : joined;
                changed = true;
            }
            if (changed) _work.Push(index);
        }

        private static Value Join(Value a, Value b)
        {
            if (a == b) return a;
            if (a.Kind != b.Kind) return Value.Unknown;
            switch (a.Kind)
            {
                case Kind.Scalar:
                    return Value.Scalar(Math.Min(a.ULo, b.ULo), Math.Max(a.UHi, b.UHi));
                case Kind.Packet when a.Id == b.Id && a.Lo == b.Lo:
                    return a with { Range = Math.Min(a.Range, b.Range), VarMax = Math.Max(a.VarMax, b.VarMax) };
                case Kind.Stack:
                    return new Value(Kind.Stack, Math.Min(a.Lo, b.Lo), Math.Max(a.Hi, b.Hi));
                case Kind.MapValue when a.Range == b.Range && a.Writable == b.Writable && a.WriteOnly == b.WriteOnly:
                    return a with { Lo = Math.Min(a.Lo, b.Lo), Hi = Math.Max(a.Hi, b.Hi), Map = a.Map == b.Map ? a.Map : 0 };
                default:
                    return Value.Unknown;
            }
        }

        /// <summary>Which functions may reach a helper that moves the packet (directly, through calls, or through callx).</summary>
        private bool[] FunctionsChangingPacket()
        {
            var changes = new bool[facts.Length];
            var calls = new List<(int Caller, int Callee)>();
            for (int i = 0; i < facts.Length; i++)
            {
                var f = facts[i];
                if (f.IsWideTail) continue;
                if (f.Op == VmOp.CallReg || f.Op == VmOp.CallHelper && (!_linuxHelpers || !KeepsPacket(f.Instruction.Imm)))
                    changes[functionOf[i]] = true;
                else if (f.Op == VmOp.CallLocal) calls.Add((functionOf[i], f.Target));
            }
            for (bool more = true; more;)
            {
                more = false;
                foreach (var (caller, callee) in calls)
                    if (changes[callee] && !changes[caller]) more = changes[caller] = true;
            }
            return changes;
        }

        /// <summary>Applies instruction <paramref name="i"/> to <paramref name="s"/>; <paramref name="next"/> is the
        /// fall-through successor (-1: none). Branch targets are merged here. False when the instruction ends the walk.</summary>
        private bool Step(int i, Value[] s, out int next)
        {
            var f = facts[i];
            var ins = f.Instruction;
            next = -1;
            if (f.IsConditionalJump)
            {
                var taken = (Value[])s.Clone();
                bool takenFeasible = Refine(f, taken, s, out bool fallFeasible);
                if (takenFeasible) Merge(f.Target, taken);
                if (!fallFeasible) return false;
                next = i + 1;
                return true;
            }
            switch (f.Op)
            {
                case VmOp.Exit:
                    return false;
                case VmOp.Ja:
                    Merge(f.Target, s);
                    return false;
                case VmOp.LoadImm64:
                    s[ins.Dst] = ins.Src switch
                    {
                        0 => Value.Constant((uint)ins.Imm | (ulong)(uint)facts[i + 1].Instruction.Imm << 32),
                        BpfOpcodes.PseudoMapFd => new Value(Kind.MapHandle, 0, 0, Id: ins.Imm),
                        BpfOpcodes.PseudoMapValue when (uint)ins.Imm < (uint)maps.Count && maps[ins.Imm] is { } shape
                            => new Value(Kind.MapValue, facts[i + 1].Instruction.Imm, facts[i + 1].Instruction.Imm, Range: shape.Size, Writable: shape.Writable,
                                WriteOnly: !shape.Readable, Map: ins.Imm + 1),
                        _ => Value.Unknown,
                    };
                    next = i + 2;
                    return true;
                case VmOp.CallHelper:
                    CallHelper(i, ins.Imm, s);
                    next = i + 1;
                    return true;
                case VmOp.CallLocal:
                    CallLocal(i, f.Target, s);
                    next = i + 1;
                    return true;
                case >= VmOp.LdAbs8 and <= VmOp.LdInd32:
                    s[0] = Value.Scalar(0, f.Op is VmOp.LdAbs8 or VmOp.LdInd8 ? 0xff : f.Op is VmOp.LdAbs16 or VmOp.LdInd16 ? 0xffff : 0xffff_ffff);
                    for (int r = 1; r <= 5; r++) s[r] = Value.Unknown;
                    next = i + 1;
                    return true;
                case VmOp.CallReg:
                    ForgetPacket(s);
                    ForgetSlots(s);
                    for (int r = 0; r <= 5; r++) s[r] = Value.Unknown;
                    next = i + 1;
                    return true;
            }
            if (f.Op is >= VmOp.Ldx8 and <= VmOp.Ldxs32)
                Load(i, f, s);
            else if (f.Op is >= VmOp.St8 and <= VmOp.AtomicCmpXchg64)
                Store(i, f, s);
            else if (f.Op is >= VmOp.Add64Imm and <= VmOp.Be64)
                s[ins.Dst] = Alu(i, f, s);
            next = i + f.Width;
            return true;
        }

        private void CallHelper(int i, int helper, Value[] s)
        {
            var result = Value.Unknown;
            if (_linuxHelpers && helper is (int)BpfHelperId.MapLookupElem or (int)BpfHelperId.MapLookupPercpuElem && s[1] is { Kind: Kind.MapHandle } handle
                && (uint)handle.Id < (uint)maps.Count && maps[handle.Id] is { } shape)
            {
                Rename(s, Kind.MapValueOrNull, i + 1);
                result = new Value(Kind.MapValueOrNull, 0, 0, Id: i + 1, Range: shape.Size, Writable: shape.Writable, WriteOnly: !shape.Readable, Map: handle.Id + 1);
            }
            if (!_linuxHelpers || !KeepsPacket(helper)) ForgetPacket(s);
            if (!_linuxHelpers || !WritesNoMemory(helper)) ForgetSlots(s);
            for (int r = 1; r <= 5; r++) s[r] = Value.Unknown;
            s[0] = result;
        }

        private void CallLocal(int i, int callee, Value[] s)
        {
            var entry = Fresh();
            for (int r = 1; r <= 5; r++)
                entry[r] = s[r].Kind == Kind.Stack ? Value.Unknown : s[r]; // the caller's frame is not followed
            entry[10] = new Value(Kind.Stack, 0, 0);
            Merge(callee, entry);
            if (_changesPacket[callee]) ForgetPacket(s);
            ForgetSlots(s); // the callee may write the caller's frame through a pointer
            for (int r = 0; r <= 5; r++) s[r] = Value.Unknown;
        }

        private static void ForgetPacket(Value[] s)
        {
            for (int k = 0; k < Width; k++)
                if (s[k].Kind is Kind.Packet or Kind.PacketEnd) s[k] = Value.Unknown;
        }

        private static void ForgetSlots(Value[] s) => Array.Fill(s, Value.Unknown, 11, Slots);

        /// <summary>A new value named <paramref name="id"/> is being made: older values with that name (an earlier
        /// run of the same instruction) are no longer the same value, so they are forgotten.</summary>
        private static void Rename(Value[] s, Kind kind, int id)
        {
            for (int k = 0; k < Width; k++)
                if (s[k].Kind == kind && s[k].Id == id) s[k] = Value.Unknown;
        }

        private void Load(int i, InstructionFacts f, Value[] s)
        {
            var ins = f.Instruction;
            int size = BpfOpcodes.SizeBytes(ins.Opcode);
            Value result = f.Op switch
            {
                VmOp.Ldx8 => Value.Scalar(0, 0xFF),
                VmOp.Ldx16 => Value.Scalar(0, 0xFFFF),
                VmOp.Ldx32 => Value.Scalar(0, 0xFFFF_FFFF),
                _ => Value.Unknown,
            };
            if (contextAccesses.ContainsKey(i))
            {
                if (f.Op == VmOp.Ldx32 && ins.Offset == SkBuffLayout.Data) result = new Value(Kind.Packet, 0, 0);
                else if (f.Op == VmOp.Ldx32 && ins.Offset == SkBuffLayout.DataEnd) result = new Value(Kind.PacketEnd, 0, 0);
            }
            else if (f.Op == VmOp.Ldx64 && SlotOf(s[ins.Src], ins.Offset, size) is int slot && slot >= 0)
            {
                result = s[11 + slot];
            }
            s[ins.Dst] = result;
        }

        /// <summary>The own-frame slot an aligned 8-byte access at base + offset addresses exactly, else -1.</summary>
        private static int SlotOf(Value b, int offset, int size)
        {
            if (b.Kind != Kind.Stack || b.Lo != b.Hi || size != 8) return -1;
            long at = b.Lo + offset;
            if (at >= 0 || at < -BpfVerifier.StackSize || (at & 7) != 0) return -1;
            return (int)(-at / 8) - 1;
        }

        private void Store(int i, InstructionFacts f, Value[] s)
        {
            var ins = f.Instruction;
            int size = BpfOpcodes.SizeBytes(ins.Opcode);
            var b = s[ins.Dst];
            bool isAtomic = f.Op >= VmOp.AtomicAdd32;
            if (b.Kind == Kind.Stack)
            {
                int exact = isAtomic ? -1 : SlotOf(b, ins.Offset, size);
                if (exact >= 0)
                {
                    s[11 + exact] = f.Op == VmOp.St64 ? Value.Constant((ulong)(long)ins.Imm) : s[ins.Src];
                }
                else
                {
                    // Every slot the access may touch in the own frame becomes unknown (above r10 is a caller's frame).
                    long lo = b.Lo + ins.Offset, hi = b.Hi + ins.Offset + size - 1;
                    for (int k = 0; k < Slots; k++)
                    {
                        long top = -8L * k - 1, bottom = -8L * (k + 1);
                        if (lo <= top && hi >= bottom) s[11 + k] = Value.Unknown;
                    }
                }
            }
            else if (!contextAccesses.ContainsKey(i) && Proof(i, s) == AccessProof.None)
            {
                ForgetSlots(s); // it may address the stack
            }
            if (isAtomic)
            {
                if ((f.Writes & 1) != 0) s[0] = Value.Unknown;
                if (f.Op is >= VmOp.AtomicFetchAdd32 and <= VmOp.AtomicXchg32 or >= VmOp.AtomicFetchAdd64 and <= VmOp.AtomicXchg64)
                    s[ins.Src] = Value.Unknown;
            }
        }

        /// <summary>What the access at <paramref name="i"/> proves with the state before it.</summary>
        private AccessProof Proof(int i, Value[] s)
        {
            var f = facts[i];
            int baseReg;
            bool write;
            if (f.Op is >= VmOp.Ldx8 and <= VmOp.Ldxs32) { baseReg = f.Instruction.Src; write = false; }
            else if (f.Op is >= VmOp.St8 and <= VmOp.AtomicCmpXchg64) { baseReg = f.Instruction.Dst; write = true; }
            else return AccessProof.None;
            if (contextAccesses.ContainsKey(i)) return AccessProof.None; // a context operation, no translation at all
            int size = BpfOpcodes.SizeBytes(f.Instruction.Opcode);
            var b = s[baseReg];
            long lo = b.Lo + f.Instruction.Offset, hi = b.Hi + f.Instruction.Offset + size;
            return b.Kind switch
            {
                Kind.Stack when lo >= -frameBytes && hi <= 0 => AccessProof.Stack,
                Kind.Packet when lo >= 0 && hi <= b.Range => AccessProof.Packet,
                Kind.MapValue when lo >= 0 && hi <= b.Range && (b.Writable || !write) && !b.WriteOnly => AccessProof.Region,
                Kind.MapValue when lo >= 0 && hi <= b.Range && b.WriteOnly && write && f.Op < VmOp.AtomicAdd32 => AccessProof.Region,
                _ => AccessProof.None,
            };
        }

        /// <summary>The kernel's check_map_access_type for the access at <paramref name="i"/>: a load or atomic (which
        /// reads first, as the kernel checks it) from a value write-only to programs, or a store or atomic into one
        /// read-only to programs, gives why it is refused; so does a helper call that hands such a value to the helper
        /// for it to read or write (<see cref="HelperArgumentRule.Memory"/>); else null.</summary>
        private string? Forbidden(int i, Value[] s, IReadOnlyList<MapIdentity>? identities)
        {
            var f = facts[i];
            if (f.Op == VmOp.CallHelper) return ForbiddenToHelper(i, s, identities);
            if (f.Op == VmOp.CallLocal) return ForbiddenToGlobalFunction(f.Target, s, identities);
            bool load = f.Op is >= VmOp.Ldx8 and <= VmOp.Ldxs32, atomic = f.Op is >= VmOp.AtomicAdd32 and <= VmOp.AtomicCmpXchg64;
            if (!load && f.Op is not (>= VmOp.St8 and <= VmOp.AtomicCmpXchg64) || contextAccesses.ContainsKey(i)) return null;
            var b = s[load ? f.Instruction.Src : f.Instruction.Dst];
            if (b.Kind != Kind.MapValue) return null;
            bool readForbidden = b.WriteOnly && (load || atomic), writeForbidden = !b.Writable && !load;
            if (!readForbidden && !writeForbidden) return null;
            string what = atomic ? "an atomic" : load ? "a load" : "a store";
            return Refusal(readForbidden, $"{what} of {BpfOpcodes.SizeBytes(f.Instruction.Opcode)} bytes at", b, f.Instruction.Offset, identities);
        }

        /// <summary>The kernel's check_helper_mem_access of each memory argument of the helper called at
        /// <paramref name="i"/> that points into a map value: a read-only value the helper writes, or a write-only
        /// one it reads, gives why the call is refused.</summary>
        private string? ForbiddenToHelper(int i, Value[] s, IReadOnlyList<MapIdentity>? identities)
        {
            int helper = facts[i].Instruction.Imm;
            if (helpers.ArgumentRule(helper) is not { } rule) return null;
            foreach (var argument in rule.Memory)
            {
                var b = s[argument.Register];
                bool write = argument.Access == HelperMemoryAccess.Write;
                if (b.Kind != Kind.MapValue || (write ? b.Writable : !b.WriteOnly)) continue;
                var map = s[MapHelperCompatibility.MapArgument(helper)];
                string bytes = argument.SizeFrom switch
                {
                    HelperMemorySize.Argument when s[argument.Size] is { IsConstant: true } size => $"{size.ULo} bytes",
                    HelperMemorySize.Argument when s[argument.Size] is { Kind: Kind.Scalar } size && size.UHi <= int.MaxValue => $"up to {size.UHi} bytes",
                    HelperMemorySize.Argument => $"as many bytes as r{argument.Size} says",
                    HelperMemorySize.Fixed => $"{argument.Size} bytes",
                    HelperMemorySize.MapKey => "the key of " + MapName(map, identities),
                    _ => "a value of " + MapName(map, identities),
                };
                return Refusal(!write, $"bpf_{helpers.NameOf(helper)} {(write ? "writes" : "reads")} {bytes} through r{argument.Register} at", b, 0, identities);
            }
            return null;
        }

        /// <summary>The kernel's check of a call of a global function (btf_check_subprog_call → check_mem_reg): each
        /// argument that points into a map value must let the function both read and write it, as the kernel verifies
        /// the function apart, where a pointer argument is memory it may read and write.</summary>
        private string? ForbiddenToGlobalFunction(int callee, Value[] s, IReadOnlyList<MapIdentity>? identities)
        {
            if (!globalFunctions.TryGetValue(callee, out int arguments)) return null;
            for (int r = 1; r <= Math.Min(arguments, 5); r++)
            {
                var b = s[r];
                if (b.Kind != Kind.MapValue || b.Writable && !b.WriteOnly) continue;
                return Refusal(b.WriteOnly, $"r{r} hands the global function at instruction {callee} (which the kernel checks on its own, " +
                    "as a function that may read and write what its pointer arguments point to) the memory at", b, 0, identities);
            }
            return null;
        }

        /// <summary>"read from map forbidden: …" or "write into map forbidden: …": <paramref name="what"/> at
        /// <paramref name="b"/> + <paramref name="offset"/>, in the value of its map, whose flag forbids it.</summary>
        private static string Refusal(bool read, string what, Value b, long offset, IReadOnlyList<MapIdentity>? identities)
        {
            long lo = b.Lo + offset, hi = b.Hi + offset;
            string at = lo == hi ? $"offset {lo}" : $"offsets {lo}..{hi}";
            string map = MapName(b.Map - 1, identities, "a map"); // a value's Map counts from 1 (0: none)
            return (read ? "read from map forbidden" : "write into map forbidden") + $": {what} {at} of the {b.Range}-byte value of {map}, which is " +
                (read ? "write-only to programs (BPF_F_WRONLY_PROG)" : "read-only to programs (BPF_F_RDONLY_PROG)") + ", as the kernel refuses it";
        }

        /// <summary>How a message names the map of handle <paramref name="handle"/>.</summary>
        private static string MapName(Value handle, IReadOnlyList<MapIdentity>? identities) =>
            handle is { Kind: Kind.MapHandle } ? MapName(handle.Id, identities, "its map") : "its map";

        /// <summary>How a message names map <paramref name="index"/> of the program: by its name, else <paramref name="unknown"/>.</summary>
        private static string MapName(int index, IReadOnlyList<MapIdentity>? identities, string unknown) =>
            identities is not null && (uint)index < (uint)identities.Count ? $"map '{identities[index].Name}'" : unknown;

        private Value Alu(int i, InstructionFacts f, Value[] s)
        {
            var ins = f.Instruction;
            var d = s[ins.Dst];
            bool reg = (ins.Opcode & BpfOpcodes.SourceReg) != 0 && (ins.Opcode & 0xf0) != BpfOpcodes.AluEnd;
            var src = reg ? s[ins.Src] : Value.Constant((ulong)(long)ins.Imm);
            switch (f.Op)
            {
                case VmOp.Mov64Imm: return Value.Constant((ulong)(long)ins.Imm);
                case VmOp.Mov32Imm: return Value.Constant((uint)ins.Imm);
                case VmOp.Mov64Reg: return s[ins.Src];
                case VmOp.Mov32Reg: return Truncate32(s[ins.Src]);
                case VmOp.Add64Imm or VmOp.Add64Reg:
                    if (d.IsPointer) return Offset(i, s, d, src, negate: false);
                    if (src.IsPointer) return Offset(i, s, src, d, negate: false);
                    return Add(d, src);
                case VmOp.Sub64Imm or VmOp.Sub64Reg:
                    if (d.IsPointer) return src.IsConstant ? Offset(i, s, d, src, negate: true) : Value.Unknown;
                    if (src.Kind != Kind.Scalar) return Value.Unknown;
                    return d.ULo >= src.UHi ? Value.Scalar(d.ULo - src.UHi, d.UHi - src.ULo) : Value.Unknown;
            }
            bool is64 = f.Op <= VmOp.Bswap64;
            ulong mask = is64 ? ulong.MaxValue : 0xFFFF_FFFF;
            if (!is64)
            {
                d = Truncate32(d);
                src = reg ? Truncate32(src) : Value.Constant((uint)ins.Imm);
            }
            int shift = (int)(src.ULo & (is64 ? 63UL : 31UL));
            Value result = f.Op switch
            {
                VmOp.Le16 or VmOp.Be16 or VmOp.Bswap16 => Value.Scalar(0, 0xFFFF),
                VmOp.Le32 or VmOp.Be32 or VmOp.Bswap32 => Value.Scalar(0, 0xFFFF_FFFF),
                VmOp.Add32Imm or VmOp.Add32Reg => Add(d, src),
                VmOp.Sub32Imm or VmOp.Sub32Reg => d.ULo >= src.UHi ? Value.Scalar(d.ULo - src.UHi, d.UHi - src.ULo) : Value.Unknown,
                VmOp.And64Imm or VmOp.And64Reg or VmOp.And32Imm or VmOp.And32Reg => Value.Scalar(0, Math.Min(d.UHi, src.UHi)),
                VmOp.Or64Imm or VmOp.Or64Reg or VmOp.Xor64Imm or VmOp.Xor64Reg
                    or VmOp.Or32Imm or VmOp.Or32Reg or VmOp.Xor32Imm or VmOp.Xor32Reg => Value.Scalar(0, AllOnesCovering(Math.Max(d.UHi, src.UHi))),
                VmOp.Mul64Imm or VmOp.Mul64Reg or VmOp.Mul32Imm or VmOp.Mul32Reg => d.UHi == 0 || src.UHi <= ulong.MaxValue / d.UHi
                    ? Value.Scalar(d.ULo * src.ULo, d.UHi * src.UHi) : Value.Unknown,
                VmOp.Div64Imm or VmOp.Div64Reg or VmOp.Div32Imm or VmOp.Div32Reg => src.IsConstant
                    ? src.ULo == 0 ? Value.Constant(0) : Value.Scalar(d.ULo / src.ULo, d.UHi / src.ULo) : Value.Scalar(0, d.UHi),
                VmOp.Mod64Imm or VmOp.Mod64Reg or VmOp.Mod32Imm or VmOp.Mod32Reg => src.IsConstant && src.ULo != 0
                    ? Value.Scalar(0, Math.Min(d.UHi, src.ULo - 1)) : Value.Scalar(0, d.UHi),
                VmOp.Lsh64Imm or VmOp.Lsh64Reg or VmOp.Lsh32Imm or VmOp.Lsh32Reg when src.IsConstant => Shift(d, shift, left: true, mask),
                VmOp.Rsh64Imm or VmOp.Rsh64Reg or VmOp.Rsh32Imm or VmOp.Rsh32Reg when src.IsConstant => Shift(d, shift, left: false, mask),
                VmOp.Rsh64Imm or VmOp.Rsh64Reg or VmOp.Rsh32Imm or VmOp.Rsh32Reg => Value.Scalar(0, d.UHi),
                VmOp.Arsh64Imm or VmOp.Arsh64Reg or VmOp.Arsh32Imm or VmOp.Arsh32Reg when src.IsConstant && d.UHi <= mask >> 1
                    => Shift(d, shift, left: false, mask),
                _ => Value.Unknown, // signed division, negation, sign extension, 64-bit byte swaps
            };
            return Fit(result, mask);
        }

        /// <summary>A pointer moved by a scalar (added, or subtracted when <paramref name="negate"/>).</summary>
        private static Value Offset(int i, Value[] s, Value p, Value by, bool negate)
        {
            if (by.Kind != Kind.Scalar) return Value.Unknown;
            if (by.IsConstant)
            {
                long c = (long)by.ULo;
                if (negate) c = -c;
                if (c is < -MaxOffset or > MaxOffset) return Value.Unknown;
                var moved = p with { Lo = p.Lo + c, Hi = p.Hi + c };
                return moved.Lo is < -MaxOffset or > MaxOffset || moved.Hi > MaxOffset ? Value.Unknown : moved;
            }
            if (negate || by.UHi > MaxPacketOffset) return Value.Unknown;
            if (p.Kind == Kind.Packet)
            {
                // data + (old variable part + this one): a new variable part, named by this instruction, nothing proven yet.
                int varMax = p.VarMax + (int)by.UHi;
                if (varMax > MaxPacketOffset) return Value.Unknown;
                Rename(s, Kind.Packet, i + 1);
                return new Value(Kind.Packet, p.Lo, p.Hi, Id: i + 1, Range: 0, VarMax: varMax);
            }
            return p with { Lo = p.Lo + (long)by.ULo, Hi = p.Hi + (long)by.UHi };
        }

        private static Value Add(Value a, Value b)
        {
            if (a.Kind != Kind.Scalar || b.Kind != Kind.Scalar) return Value.Unknown;
            return a.UHi <= ulong.MaxValue - b.UHi ? Value.Scalar(a.ULo + b.ULo, a.UHi + b.UHi) : Value.Unknown;
        }

        private static Value Shift(Value d, int k, bool left, ulong mask)
        {
            if (!left) return Value.Scalar(d.ULo >> k, d.UHi >> k);
            return d.UHi <= mask >> k ? Value.Scalar(d.ULo << k, d.UHi << k) : Value.Scalar(0, mask);
        }

        private static ulong AllOnesCovering(ulong x) => x == 0 ? 0 : ulong.MaxValue >> System.Numerics.BitOperations.LeadingZeroCount(x);

        /// <summary>The low 32 bits of a value, zero-extended.</summary>
        private static Value Truncate32(Value v) => v.Kind == Kind.Scalar && v.UHi <= 0xFFFF_FFFF ? v : Value.Scalar(0, 0xFFFF_FFFF);

        private static Value Fit(Value v, ulong mask) => v.Kind == Kind.Scalar && v.UHi > mask ? Value.Scalar(0, mask) : v;

        /// <summary>Splits <paramref name="fall"/> (the state before the branch, becoming the fall-through state) and
        /// <paramref name="taken"/> (a copy, becoming the target's) by what the condition says on each side.
        /// Returns whether the jump can be taken; <paramref name="fallFeasible"/> whether it can fall through.</summary>
        private bool Refine(InstructionFacts f, Value[] taken, Value[] fall, out bool fallFeasible)
        {
            fallFeasible = true;
            var ins = f.Instruction;
            bool is64 = f.Op <= VmOp.Jsle64Reg;
            int k = is64 ? f.Op - VmOp.Jeq64Imm : f.Op - VmOp.Jeq32Imm;
            bool reg = k % 2 == 1;
            int cond = k / 2; // 0 eq, 1 gt, 2 ge, 3 set, 4 ne, 5 sgt, 6 sge, 7 lt, 8 le, 9 slt, 10 sle
            var a = fall[ins.Dst];
            var b = reg ? fall[ins.Src] : Value.Constant(is64 ? (ulong)(long)ins.Imm : (uint)ins.Imm);

            // data + N against data_end (64-bit, unsigned): the bytes below the pointer are in the packet.
            if (is64 && reg && cond is 1 or 2 or 7 or 8)
            {
                if (a.Kind == Kind.Packet && b.Kind == Kind.PacketEnd)
                {
                    // a > end / a >= end fall through with a <= end; a < end / a <= end jump with it.
                    ProvePacket(cond is 1 or 2 ? fall : taken, a);
                    return true;
                }
                if (a.Kind == Kind.PacketEnd && b.Kind == Kind.Packet)
                {
                    ProvePacket(cond is 1 or 2 ? taken : fall, b);
                    return true;
                }
            }

            // NULL checks of a lookup's result.
            if (is64 && a.Kind == Kind.MapValueOrNull && b.IsConstant && b.ULo == 0 && cond is 0 or 4)
            {
                NullCheck(cond == 0 ? taken : fall, a, isNull: true);
                NullCheck(cond == 0 ? fall : taken, a, isNull: false);
                return true;
            }

            // Scalar bounds against a constant.
            if (a.Kind != Kind.Scalar || !b.IsConstant) return true;
            ulong limit = is64 ? ulong.MaxValue : 0xFFFF_FFFF;
            if (a.UHi > limit) return true; // a 32-bit compare of a wider value says nothing about it
            ulong c = b.ULo;
            if (cond is 5 or 6 or 9 or 10)
            {
                // Signed: the same as unsigned when both sides are non-negative.
                if (a.UHi > limit >> 1 || c > limit >> 1) return true;
                cond = cond switch { 5 => 1, 6 => 2, 9 => 7, _ => 8 };
            }
            ulong lo = a.ULo, hi = a.UHi;
            (ulong tLo, ulong tHi, ulong fLo, ulong fHi) = (lo, hi, lo, hi);
            bool tOk = true, fOk = true;
            switch (cond)
            {
                case 0: tLo = Math.Max(lo, c); tHi = Math.Min(hi, c); break;                                 // ==
                case 4: fLo = Math.Max(lo, c); fHi = Math.Min(hi, c); break;                                 // !=
                case 1: if (c == limit) tOk = false; else tLo = Math.Max(lo, c + 1); fHi = Math.Min(hi, c); break; // >
                case 2: tLo = Math.Max(lo, c); if (c == 0) fOk = false; else fHi = Math.Min(hi, c - 1); break;   // >=
                case 7: if (c == 0) tOk = false; else tHi = Math.Min(hi, c - 1); fLo = Math.Max(lo, c); break;   // <
                case 8: tHi = Math.Min(hi, c); if (c == limit) fOk = false; else fLo = Math.Max(lo, c + 1); break; // <=
                default: return true;
            }
            tOk &= tLo <= tHi;
            fOk &= fLo <= fHi;
            if (tOk) taken[ins.Dst] = Value.Scalar(tLo, tHi);
            if (fOk) fall[ins.Dst] = Value.Scalar(fLo, fHi);
            fallFeasible = fOk;
            return tOk;
        }

        /// <summary><paramref name="p"/> &lt;= data_end holds: every pointer with p's variable part has p's offset readable.</summary>
        private static void ProvePacket(Value[] s, Value p)
        {
            if (p.Lo < 0 || p.Lo > MaxPacketOffset) return;
            for (int k = 0; k < Width; k++)
                if (s[k].Kind == Kind.Packet && s[k].Id == p.Id && s[k].Range < p.Lo)
                    s[k] = s[k] with { Range = (int)p.Lo };
        }

        private static void NullCheck(Value[] s, Value v, bool isNull)
        {
            for (int k = 0; k < Width; k++)
                if (s[k].Kind == Kind.MapValueOrNull && s[k].Id == v.Id)
                    s[k] = isNull ? Value.Constant(0) : new Value(Kind.MapValue, 0, 0, Range: v.Range, Writable: v.Writable, WriteOnly: v.WriteOnly, Map: v.Map);
        }
    }
}
