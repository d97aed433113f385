using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Jit;

namespace Appliance.Bpf.Vm;

public sealed unsafe partial class BpfVm
{
    private BpfRunResult Execute(LoadedProgram program)
    {
        ulong* r = _registers;
        long budget = Options.InstructionBudget;
        long start = budget;
        int depth = 0;
        int tailCalls = 0;
        DecodedInstruction* code = program.CodePointer;
        DecodedInstruction* ip = code;

        while (true)
        {
            ref DecodedInstruction ins = ref *ip;
            if (--budget < 0)
            {
                _fault = BpfFault.BudgetExhausted;
                goto Fault;
            }
            ip++;
            switch (ins.Op)
            {
                // ---- ALU64 ----
                case VmOp.Add64Imm: r[ins.Dst] += (ulong)ins.Imm; break;
                case VmOp.Add64Reg: r[ins.Dst] += r[ins.Src]; break;
                case VmOp.Sub64Imm: r[ins.Dst] -= (ulong)ins.Imm; break;
                case VmOp.Sub64Reg: r[ins.Dst] -= r[ins.Src]; break;
                case VmOp.Mul64Imm: r[ins.Dst] *= (ulong)ins.Imm; break;
                case VmOp.Mul64Reg: r[ins.Dst] *= r[ins.Src]; break;
                case VmOp.Div64Imm: r[ins.Dst] = Arithmetic.Div64(r[ins.Dst], (ulong)ins.Imm); break;
                case VmOp.Div64Reg: r[ins.Dst] = Arithmetic.Div64(r[ins.Dst], r[ins.Src]); break;
                case VmOp.SDiv64Imm: r[ins.Dst] = Arithmetic.SDiv64(r[ins.Dst], (ulong)ins.Imm); break;
                case VmOp.SDiv64Reg: r[ins.Dst] = Arithmetic.SDiv64(r[ins.Dst], r[ins.Src]); break;
                case VmOp.Or64Imm: r[ins.Dst] |= (ulong)ins.Imm; break;
                case VmOp.Or64Reg: r[ins.Dst] |= r[ins.Src]; break;
                case VmOp.And64Imm: r[ins.Dst] &= (ulong)ins.Imm; break;
                case VmOp.And64Reg: r[ins.Dst] &= r[ins.Src]; break;
                case VmOp.Lsh64Imm: r[ins.Dst] <<= (int)(ins.Imm & 63); break;
                case VmOp.Lsh64Reg: r[ins.Dst] <<= (int)(r[ins.Src] & 63); break;
                case VmOp.Rsh64Imm: r[ins.Dst] >>= (int)(ins.Imm & 63); break;
                case VmOp.Rsh64Reg: r[ins.Dst] >>= (int)(r[ins.Src] & 63); break;
                case VmOp.Neg64: r[ins.Dst] = (ulong)(-(long)r[ins.Dst]); break;
                case VmOp.Mod64Imm: r[ins.Dst] = Arithmetic.Mod64(r[ins.Dst], (ulong)ins.Imm); break;
                case VmOp.Mod64Reg: r[ins.Dst] = Arithmetic.Mod64(r[ins.Dst], r[ins.Src]); break;
                case VmOp.SMod64Imm: r[ins.Dst] = Arithmetic.SMod64(r[ins.Dst], (ulong)ins.Imm); break;
                case VmOp.SMod64Reg: r[ins.Dst] = Arithmetic.SMod64(r[ins.Dst], r[ins.Src]); break;
                case VmOp.Xor64Imm: r[ins.Dst] ^= (ulong)ins.Imm; break;
                case VmOp.Xor64Reg: r[ins.Dst] ^= r[ins.Src]; break;
                case VmOp.Mov64Imm: r[ins.Dst] = (ulong)ins.Imm; break;
                case VmOp.Mov64Reg: r[ins.Dst] = r[ins.Src]; break;
                case VmOp.MovSx8To64: r[ins.Dst] = (ulong)(long)(sbyte)r[ins.Src]; break;
                case VmOp.MovSx16To64: r[ins.Dst] = (ulong)(long)(short)r[ins.Src]; break;
                case VmOp.MovSx32To64: r[ins.Dst] = (ulong)(long)(int)r[ins.Src]; break;
                case VmOp.Arsh64Imm: r[ins.Dst] = (ulong)((long)r[ins.Dst] >> (int)(ins.Imm & 63)); break;
                case VmOp.Arsh64Reg: r[ins.Dst] = (ulong)((long)r[ins.Dst] >> (int)(r[ins.Src] & 63)); break;
                case VmOp.Bswap16: r[ins.Dst] = BinaryPrimitives.ReverseEndianness((ushort)r[ins.Dst]); break;
                case VmOp.Bswap32: r[ins.Dst] = BinaryPrimitives.ReverseEndianness((uint)r[ins.Dst]); break;
                case VmOp.Bswap64: r[ins.Dst] = BinaryPrimitives.ReverseEndianness(r[ins.Dst]); break;

                // ---- ALU32: operate on the low 32 bits, zero-extend ----
                case VmOp.Add32Imm: r[ins.Dst] = (uint)r[ins.Dst] + (uint)ins.Imm; break;
                case VmOp.Add32Reg: r[ins.Dst] = (uint)r[ins.Dst] + (uint)r[ins.Src]; break;
                case VmOp.Sub32Imm: r[ins.Dst] = (uint)r[ins.Dst] - (uint)ins.Imm; break;
                case VmOp.Sub32Reg: r[ins.Dst] = (uint)r[ins.Dst] - (uint)r[ins.Src]; break;
                case VmOp.Mul32Imm: r[ins.Dst] = (uint)r[ins.Dst] * (uint)ins.Imm; break;
                case VmOp.Mul32Reg: r[ins.Dst] = (uint)r[ins.Dst] * (uint)r[ins.Src]; break;
                case VmOp.Div32Imm: r[ins.Dst] = Arithmetic.Div32((uint)r[ins.Dst], (uint)ins.Imm); break;
                case VmOp.Div32Reg: r[ins.Dst] = Arithmetic.Div32((uint)r[ins.Dst], (uint)r[ins.Src]); break;
                case VmOp.SDiv32Imm: r[ins.Dst] = Arithmetic.SDiv32((uint)r[ins.Dst], (uint)ins.Imm); break;
                case VmOp.SDiv32Reg: r[ins.Dst] = Arithmetic.SDiv32((uint)r[ins.Dst], (uint)r[ins.Src]); break;
                case VmOp.Or32Imm: r[ins.Dst] = (uint)r[ins.Dst] | (uint)ins.Imm; break;
                case VmOp.Or32Reg: r[ins.Dst] = (uint)r[ins.Dst] | (uint)r[ins.Src]; break;
                case VmOp.And32Imm: r[ins.Dst] = (uint)r[ins.Dst] & (uint)ins.Imm; break;
                case VmOp.And32Reg: r[ins.Dst] = (uint)r[ins.Dst] & (uint)r[ins.Src]; break;
                case VmOp.Lsh32Imm: r[ins.Dst] = (uint)r[ins.Dst] << (int)(ins.Imm & 31); break;
                case VmOp.Lsh32Reg: r[ins.Dst] = (uint)r[ins.Dst] << (int)(r[ins.Src] & 31); break;
                case VmOp.Rsh32Imm: r[ins.Dst] = (uint)r[ins.Dst] >> (int)(ins.Imm & 31); break;
                case VmOp.Rsh32Reg: r[ins.Dst] = (uint)r[ins.Dst] >> (int)(r[ins.Src] & 31); break;
                case VmOp.Neg32: r[ins.Dst] = (uint)(-(int)(uint)r[ins.Dst]); break;
                case VmOp.Mod32Imm: r[ins.Dst] = Arithmetic.Mod32((uint)r[ins.Dst], (uint)ins.Imm); break;
                case VmOp.Mod32Reg: r[ins.Dst] = Arithmetic.Mod32((uint)r[ins.Dst], (uint)r[ins.Src]); break;
                case VmOp.SMod32Imm: r[ins.Dst] = Arithmetic.SMod32((uint)r[ins.Dst], (uint)ins.Imm); break;
                case VmOp.SMod32Reg: r[ins.Dst] = Arithmetic.SMod32((uint)r[ins.Dst], (uint)r[ins.Src]); break;
                case VmOp.Xor32Imm: r[ins.Dst] = (uint)r[ins.Dst] ^ (uint)ins.Imm; break;
                case VmOp.Xor32Reg: r[ins.Dst] = (uint)r[ins.Dst] ^ (uint)r[ins.Src]; break;
                case VmOp.Mov32Imm: r[ins.Dst] = (uint)ins.Imm; break;
                case VmOp.Mov32Reg: r[ins.Dst] = (uint)r[ins.Src]; break;
                case VmOp.MovSx8To32: r[ins.Dst] = (uint)(int)(sbyte)r[ins.Src]; break;
                case VmOp.MovSx16To32: r[ins.Dst] = (uint)(int)(short)r[ins.Src]; break;
                case VmOp.Arsh32Imm: r[ins.Dst] = (uint)((int)(uint)r[ins.Dst] >> (int)(ins.Imm & 31)); break;
                case VmOp.Arsh32Reg: r[ins.Dst] = (uint)((int)(uint)r[ins.Dst] >> (int)(r[ins.Src] & 31)); break;
                case VmOp.Le16: r[ins.Dst] = (ushort)r[ins.Dst]; break;
                case VmOp.Le32: r[ins.Dst] = (uint)r[ins.Dst]; break;
                case VmOp.Le64: break;
                case VmOp.Be16: r[ins.Dst] = BinaryPrimitives.ReverseEndianness((ushort)r[ins.Dst]); break;
                case VmOp.Be32: r[ins.Dst] = BinaryPrimitives.ReverseEndianness((uint)r[ins.Dst]); break;
                case VmOp.Be64: r[ins.Dst] = BinaryPrimitives.ReverseEndianness(r[ins.Dst]); break;

                // ---- Jumps (Offset holds the absolute target) ----
                case VmOp.Ja: ip = code + ins.Offset; break;
                case VmOp.Jeq64Imm: if (r[ins.Dst] == (ulong)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jeq64Reg: if (r[ins.Dst] == r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jgt64Imm: if (r[ins.Dst] > (ulong)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jgt64Reg: if (r[ins.Dst] > r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jge64Imm: if (r[ins.Dst] >= (ulong)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jge64Reg: if (r[ins.Dst] >= r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jset64Imm: if ((r[ins.Dst] & (ulong)ins.Imm) != 0) ip = code + ins.Offset; break;
                case VmOp.Jset64Reg: if ((r[ins.Dst] & r[ins.Src]) != 0) ip = code + ins.Offset; break;
                case VmOp.Jne64Imm: if (r[ins.Dst] != (ulong)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jne64Reg: if (r[ins.Dst] != r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jsgt64Imm: if ((long)r[ins.Dst] > ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jsgt64Reg: if ((long)r[ins.Dst] > (long)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jsge64Imm: if ((long)r[ins.Dst] >= ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jsge64Reg: if ((long)r[ins.Dst] >= (long)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jlt64Imm: if (r[ins.Dst] < (ulong)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jlt64Reg: if (r[ins.Dst] < r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jle64Imm: if (r[ins.Dst] <= (ulong)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jle64Reg: if (r[ins.Dst] <= r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jslt64Imm: if ((long)r[ins.Dst] < ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jslt64Reg: if ((long)r[ins.Dst] < (long)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jsle64Imm: if ((long)r[ins.Dst] <= ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jsle64Reg: if ((long)r[ins.Dst] <= (long)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jeq32Imm: if ((uint)r[ins.Dst] == (uint)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jeq32Reg: if ((uint)r[ins.Dst] == (uint)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jgt32Imm: if ((uint)r[ins.Dst] > (uint)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jgt32Reg: if ((uint)r[ins.Dst] > (uint)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jge32Imm: if ((uint)r[ins.Dst] >= (uint)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jge32Reg: if ((uint)r[ins.Dst] >= (uint)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jset32Imm: if (((uint)r[ins.Dst] & (uint)ins.Imm) != 0) ip = code + ins.Offset; break;
                case VmOp.Jset32Reg: if (((uint)r[ins.Dst] & (uint)r[ins.Src]) != 0) ip = code + ins.Offset; break;
                case VmOp.Jne32Imm: if ((uint)r[ins.Dst] != (uint)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jne32Reg: if ((uint)r[ins.Dst] != (uint)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jsgt32Imm: if ((int)r[ins.Dst] > (int)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jsgt32Reg: if ((int)r[ins.Dst] > (int)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jsge32Imm: if ((int)r[ins.Dst] >= (int)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jsge32Reg: if ((int)r[ins.Dst] >= (int)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jlt32Imm: if ((uint)r[ins.Dst] < (uint)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jlt32Reg: if ((uint)r[ins.Dst] < (uint)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jle32Imm: if ((uint)r[ins.Dst] <= (uint)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jle32Reg: if ((uint)r[ins.Dst] <= (uint)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jslt32Imm: if ((int)r[ins.Dst] < (int)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jslt32Reg: if ((int)r[ins.Dst] < (int)r[ins.Src]) ip = code + ins.Offset; break;
                case VmOp.Jsle32Imm: if ((int)r[ins.Dst] <= (int)ins.Imm) ip = code + ins.Offset; break;
                case VmOp.Jsle32Reg: if ((int)r[ins.Dst] <= (int)r[ins.Src]) ip = code + ins.Offset; break;

                // ---- Calls ----
                case VmOp.CallHelper:
                case VmOp.CallReg:
                    {
                        int id = ins.Op == VmOp.CallHelper ? (int)ins.Imm : (int)r[ins.Dst];
                        var helpers = _program!.Helpers;
                        if (ins.Op == VmOp.CallReg && ((ulong)(uint)id != r[ins.Dst] || !helpers.IsDefined(id)))
                        {
                            _fault = BpfFault.UnknownHelper;
                            goto Fault;
                        }
                        switch (InvokeHelper(helpers, id))
                        {
                            case HelperOutcome.Continue: break;
                            case HelperOutcome.Stop: goto Done;
                            case HelperOutcome.Fault: goto Fault;
                            case HelperOutcome.Callback:
                                {
                                    int entry = EnterCallback(depth);
                                    if (!PushFrame(ref depth, (int)(ip - code), callback: true)) goto Fault;
                                    ip = code + entry;
                                    break;
                                }
                            case HelperOutcome.TailCall:
                                {
                                    if (_callbackLevel > 0)
                                    {
                                        _fault = BpfFault.HelperMisuse; // the kernel allows no tail call from a callback
                                        goto Fault;
                                    }
                                    if (++tailCalls > MaxTailCalls || _pendingTailCall is null)
                                    {
                                        _pendingTailCall = null;
                                        r[0] = unchecked((ulong)-Errno.ENOENT);
                                        break;
                                    }
                                    var target = _pendingTailCall;
                                    depth = 0;
                                    EnterTailCallTarget(target);
                                    code = target.CodePointer;
                                    ip = code;
                                    break;
                                }
                        }
                        break;
                    }
                case VmOp.CallLocal:
                    {
                        if (!PushFrame(ref depth, (int)(ip - code), callback: false)) goto Fault;
                        ip = code + ins.Offset;
                        break;
                    }
                case VmOp.Exit:
                    {
                        if (depth == 0) goto Done;
                        depth--;
                        ref CallFrame frame = ref _frames[depth];
                        if (frame.Callback)
                        {
                            int again = ResumeCallback(depth);
                            if (again == -2) goto Fault;
                            if (again >= 0)
                            {
                                // The next call starts as the first did (and as compiled code's does): with the
                                // caller's r6-r9, not what the callback left in them.
                                depth++;
                                r[6] = frame.R6; r[7] = frame.R7; r[8] = frame.R8; r[9] = frame.R9;
                                r[10] = frame.R10 - FrameSize;
                                ip = code + again;
                                break;
                            }
                        }
                        ip = code + frame.ReturnPc;
                        r[6] = frame.R6; r[7] = frame.R7; r[8] = frame.R8; r[9] = frame.R9; r[10] = frame.R10;
                        SetStackDepth(depth);
                        break;
                    }

                // ---- Loads and stores ----
                case VmOp.LoadImm64: r[ins.Dst] = (ulong)ins.Imm; ip++; break;
                case VmOp.Ldx8:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 1, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = p;
                        break;
                    }
                case VmOp.Ldx16:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 2, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = Unsafe.ReadUnaligned<ushort>(ref p);
                        break;
                    }
                case VmOp.Ldx32:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 4, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = Unsafe.ReadUnaligned<uint>(ref p);
                        break;
                    }
                case VmOp.Ldx64:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 8, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = Unsafe.ReadUnaligned<ulong>(ref p);
                        break;
                    }
                case VmOp.Ldxs8:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 1, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = (ulong)(long)(sbyte)p;
                        break;
                    }
                case VmOp.Ldxs16:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 2, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = (ulong)(long)Unsafe.ReadUnaligned<short>(ref p);
                        break;
                    }
                case VmOp.Ldxs32:
                    {
                        ref byte p = ref Translate(r[ins.Src] + (ulong)(long)ins.Offset, 4, false);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        r[ins.Dst] = (ulong)(long)Unsafe.ReadUnaligned<int>(ref p);
                        break;
                    }
                case VmOp.St8:
                case VmOp.Stx8:
                    {
                        ref byte p = ref Translate(r[ins.Dst] + (ulong)(long)ins.Offset, 1, true);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        p = (byte)(ins.Op == VmOp.St8 ? (ulong)ins.Imm : r[ins.Src]);
                        break;
                    }
                case VmOp.St16:
                case VmOp.Stx16:
                    {
                        ref byte p = ref Translate(r[ins.Dst] + (ulong)(long)ins.Offset, 2, true);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        Unsafe.WriteUnaligned(ref p, (ushort)(ins.Op == VmOp.St16 ? (ulong)ins.Imm : r[ins.Src]));
                        break;
                    }
                case VmOp.St32:
                case VmOp.Stx32:
                    {
                        ref byte p = ref Translate(r[ins.Dst] + (ulong)(long)ins.Offset, 4, true);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        Unsafe.WriteUnaligned(ref p, (uint)(ins.Op == VmOp.St32 ? (ulong)ins.Imm : r[ins.Src]));
                        break;
                    }
                case VmOp.St64:
                case VmOp.Stx64:
                    {
                        ref byte p = ref Translate(r[ins.Dst] + (ulong)(long)ins.Offset, 8, true);
                        if (Unsafe.IsNullRef(ref p)) goto Fault;
                        Unsafe.WriteUnaligned(ref p, ins.Op == VmOp.St64 ? (ulong)ins.Imm : r[ins.Src]);
                        break;
                    }

                // ---- Context accesses the verifier proved (offset and size allowed, see ContextAccessAnalysis) ----
                case VmOp.CtxLdx8: r[ins.Dst] = _context[ins.Offset]; break;
                case VmOp.CtxLdx16: r[ins.Dst] = Unsafe.ReadUnaligned<ushort>(_context + ins.Offset); break;
                case VmOp.CtxLdx32: r[ins.Dst] = Unsafe.ReadUnaligned<uint>(_context + ins.Offset); break;
                case VmOp.CtxLdx64: r[ins.Dst] = Unsafe.ReadUnaligned<ulong>(_context + ins.Offset); break;
                case VmOp.CtxSt32: Unsafe.WriteUnaligned(_context + ins.Offset, (uint)ins.Imm); break;
                case VmOp.CtxStx32: Unsafe.WriteUnaligned(_context + ins.Offset, (uint)r[ins.Src]); break;
                case VmOp.CtxSt64: Unsafe.WriteUnaligned(_context + ins.Offset, (ulong)ins.Imm); break;
                case VmOp.CtxStx64: Unsafe.WriteUnaligned(_context + ins.Offset, r[ins.Src]); break;
                case VmOp.CtxStNarrow:
                case VmOp.CtxStxNarrow:
                    if (ins.Op == VmOp.CtxStNarrow) StoreNarrowContextField(ins.Offset, (ulong)(long)ins.Imm, immediate: true);
                    else StoreNarrowContextField(ins.Offset, r[ins.Src], immediate: false);
                    break;

                // Each op its own case label, no ranges: with every value of VmOp a plain label the switch is one jump
                // table (a range pattern splits it into a chain of compares in front of every instruction's dispatch).
                case VmOp.AtomicAdd32: case VmOp.AtomicOr32: case VmOp.AtomicAnd32: case VmOp.AtomicXor32:
                case VmOp.AtomicFetchAdd32: case VmOp.AtomicFetchOr32: case VmOp.AtomicFetchAnd32: case VmOp.AtomicFetchXor32:
                case VmOp.AtomicXchg32: case VmOp.AtomicCmpXchg32:
                    if (!Atomic32(ref ins, r)) goto Fault;
                    break;
                case VmOp.AtomicAdd64: case VmOp.AtomicOr64: case VmOp.AtomicAnd64: case VmOp.AtomicXor64:
                case VmOp.AtomicFetchAdd64: case VmOp.AtomicFetchOr64: case VmOp.AtomicFetchAnd64: case VmOp.AtomicFetchXor64:
                case VmOp.AtomicXchg64: case VmOp.AtomicCmpXchg64:
                    if (!Atomic64(ref ins, r)) goto Fault;
                    break;

                case VmOp.LdAbs8: case VmOp.LdAbs16: case VmOp.LdAbs32: case VmOp.LdInd8: case VmOp.LdInd16: case VmOp.LdInd32:
                    {
                        int offset = unchecked((int)ins.Imm + (ins.Op >= VmOp.LdInd8 ? (int)r[ins.Src] : 0));
                        int outcome = LegacyLoad(offset, ins.Op);
                        if (outcome == JitState.LegacyLoadFault) goto Fault;
                        if (outcome == JitState.LegacyLoadOutside) goto case VmOp.Exit; // r0 = 0
                        break;
                    }

                default:
                    _fault = BpfFault.InvalidInstruction;
                    goto Fault;
            }
        }

    Done:
        return new BpfRunResult(r[0], BpfFault.None, -1, RedirectTarget, RedirectTargetFlags, start - budget);

    Fault:
        int faultIndex = (int)(ip - code) - 1;
        return new BpfRunResult(0, _fault, faultIndex < 0 ? 0 : faultIndex, 0, 0, start - Math.Max(budget, 0));
    }

    /// <summary>Saves the caller's r6–r10 and return point in frame <paramref name="depth"/> and enters a new frame
    /// below it (r10 one frame lower); false after recording the fault when the frames are used up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool PushFrame(ref int depth, int returnPc, bool callback)
    {
        if (depth + 1 >= MaxCallFrames)
        {
            _fault = BpfFault.CallDepthExceeded;
            return false;
        }
        ulong* r = _registers;
        ref CallFrame frame = ref _frames[depth];
        frame.ReturnPc = returnPc;
        frame.Callback = callback;
        frame.R6 = r[6]; frame.R7 = r[7]; frame.R8 = r[8]; frame.R9 = r[9]; frame.R10 = r[10];
        depth++;
        r[10] -= FrameSize;
        SetStackDepth(depth);
        return true;
    }

    /// <summary>Calls a helper; anything it throws (a map implementation bug, say) becomes a fault, never an
    /// exception out of the run. Kept out of the run loop so the loop has no exception-handling region.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private HelperOutcome InvokeHelper(BpfHelperTable helpers, int id) => InvokeHelperInline(helpers, id);

    /// <summary><see cref="InvokeHelper"/>'s body, for callers that may have the exception-handling region
    /// (compiled code's runtime call: one call fewer per helper).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HelperOutcome InvokeHelperInline(BpfHelperTable helpers, int id)
    {
        if (_pendingContextStore >= 0) SettleContextStore();
        try
        {
            // The Linux table (sealed) without a virtual call, its dispatch inlined here.
            return helpers is LinuxHelperTable linux ? linux.Invoke(id, this) : helpers.Invoke(id, this);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _fault = BpfFault.HelperMisuse;
            return HelperOutcome.Fault;
        }
    }

    /// <summary>True when the host location of an atomic is aligned (the program's address already is); a
    /// misaligned host location would be a bus error on arm64, so it faults instead.</summary>
    private bool HostAligned(ref byte p, int size)
    {
        if (((nuint)Unsafe.AsPointer(ref p) & (nuint)(size - 1)) == 0) return true;
        _fault = BpfFault.MisalignedAtomic;
        return false;
    }

    private bool Atomic32(ref DecodedInstruction ins, ulong* r)
    {
        ulong address = r[ins.Dst] + (ulong)(long)ins.Offset;
        if ((address & 3) != 0) { _fault = BpfFault.MisalignedAtomic; return false; }
        ref byte p = ref Translate(address, 4, true);
        if (Unsafe.IsNullRef(ref p) || !HostAligned(ref p, 4)) return false;
        ref int cell = ref Unsafe.As<byte, int>(ref p);
        int value = (int)r[ins.Src];
        switch (ins.Op)
        {
            case VmOp.AtomicAdd32: Interlocked.Add(ref cell, value); break;
            case VmOp.AtomicOr32: Interlocked.Or(ref cell, value); break;
            case VmOp.AtomicAnd32: Interlocked.And(ref cell, value); break;
            case VmOp.AtomicXor32: Xor(ref cell, value); break;
            case VmOp.AtomicFetchAdd32: r[ins.Src] = (uint)(Interlocked.Add(ref cell, value) - value); break;
            case VmOp.AtomicFetchOr32: r[ins.Src] = (uint)Interlocked.Or(ref cell, value); break;
            case VmOp.AtomicFetchAnd32: r[ins.Src] = (uint)Interlocked.And(ref cell, value); break;
            case VmOp.AtomicFetchXor32: r[ins.Src] = (uint)Xor(ref cell, value); break;
            case VmOp.AtomicXchg32: r[ins.Src] = (uint)Interlocked.Exchange(ref cell, value); break;
            default: r[0] = (uint)Interlocked.CompareExchange(ref cell, value, (int)r[0]); break;
        }
        return true;

        static int Xor(ref int cell, int value)
        {
            int old;
            do { old = Volatile.Read(ref cell); } while (Interlocked.CompareExchange(ref cell, old ^ value, old) != old);
            return old;
        }
    }

    private bool Atomic64(ref DecodedInstruction ins, ulong* r)
    {
        ulong address = r[ins.Dst] + (ulong)(long)ins.Offset;
        if ((address & 7) != 0) { _fault = BpfFault.MisalignedAtomic; return false; }
        ref byte p = ref Translate(address, 8, true);
        if (Unsafe.IsNullRef(ref p) || !HostAligned(ref p, 8)) return false;
        ref long cell = ref Unsafe.As<byte, long>(ref p);
        long value = (long)r[ins.Src];
        switch (ins.Op)
        {
            case VmOp.AtomicAdd64: Interlocked.Add(ref cell, value); break;
            case VmOp.AtomicOr64: Interlocked.Or(ref cell, value); break;
            case VmOp.AtomicAnd64: Interlocked.And(ref cell, value); break;
            case VmOp.AtomicXor64: Xor(ref cell, value); break;
            case VmOp.AtomicFetchAdd64: r[ins.Src] = (ulong)(Interlocked.Add(ref cell, value) - value); break;
            case VmOp.AtomicFetchOr64: r[ins.Src] = (ulong)Interlocked.Or(ref cell, value); break;
            case VmOp.AtomicFetchAnd64: r[ins.Src] = (ulong)Interlocked.And(ref cell, value); break;
            case VmOp.AtomicFetchXor64: r[ins.Src] = (ulong)Xor(ref cell, value); break;
            case VmOp.AtomicXchg64: r[ins.Src] = (ulong)Interlocked.Exchange(ref cell, value); break;
            default: r[0] = (ulong)Interlocked.CompareExchange(ref cell, value, (long)r[0]); break;
        }
        return true;

        static long Xor(ref long cell, long value)
        {
            long old;
            do { old = Volatile.Read(ref cell); } while (Interlocked.CompareExchange(ref cell, old ^ value, old) != old);
            return old;
        }
    }
}
