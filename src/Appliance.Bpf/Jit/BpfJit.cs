using System.Runtime.InteropServices;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Jit;

/// <summary>The eBPF JIT: which machines it compiles for, and the compilation of one loaded program.</summary>
public static class BpfJit
{
    /// <summary>True on Linux x86-64 and arm64, the machines the JIT has an emitter for.</summary>
    public static bool IsSupported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    internal static JitEmitter CreateEmitter(Architecture architecture) => architecture switch
    {
        Architecture.X64 => new X64Emitter(),
        Architecture.Arm64 => new Arm64Emitter(),
        _ => throw new PlatformNotSupportedException($"no JIT emitter for {architecture}"),
    };

    /// <summary>Native code for <paramref name="program"/>, or the reason there is none (the VM then interprets it).</summary>
    internal static JitCompilation Compile(LoadedProgram program)
    {
        if (!BpfJit.IsSupported)
            return new JitCompilation(null, $"no JIT for {RuntimeInformation.OSDescription.Split(' ')[0]} {RuntimeInformation.ProcessArchitecture}", 0);
        try
        {
            byte[] code = JitLowering.Compile(program.Code, program.Stack.FrameBytes, program.AccessProofs,
                CreateEmitter(RuntimeInformation.ProcessArchitecture), out int checkedAccesses, InlineMap.For(program),
                program.Helpers is Helpers.LinuxHelperTable, program.CallbackEntries);
            Dump(program, code);
            var (reads, storesContext) = ContextUse(program.Code, checkedAccesses);
            return new JitCompilation(ExecutableMemory.Create(code), null, checkedAccesses, reads, storesContext);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException or OverflowException)
        {
            return new JitCompilation(null, $"JIT compilation failed: {e.Message}", 0);
        }
    }

    /// <summary>What the code does with the shadow <c>__sk_buff</c> before its first runtime call, where the VM takes
    /// over: which of the fields a run writes (<see cref="Context.ShadowFields"/>) it may read there — those its proven
    /// context loads overlap, and vlan_present for an inline bpf_skb_vlan_push; every one when it has a checked access,
    /// which may read the context natively, and every field <see cref="Context.SkBuffShadow.Fill"/> writes when it stores
    /// to the context (the write-back after the run reads every writable field) — and whether it stores to the context
    /// itself (the proven Ctx stores; checked stores to the context always go to the VM). A run writes only those fields
    /// before entering the code (the packet's in two groups, see <see cref="Context.SkBuffShadow.UpdatePacketFields"/>),
    /// the rest at its first runtime call (see <c>BpfVm</c>); code that stores nothing and makes no runtime call has
    /// nothing to write back.</summary>
    private static (Context.ShadowFields Reads, bool StoresContext) ContextUse(Isa.DecodedInstruction[] code, int checkedAccesses)
    {
        var reads = checkedAccesses > 0 ? Context.ShadowFields.All : Context.ShadowFields.None;
        bool stores = false;
        foreach (var ins in code)
        {
            switch (ins.Op)
            {
                case Isa.VmOp.CtxLdx8 or Isa.VmOp.CtxLdx16 or Isa.VmOp.CtxLdx32 or Isa.VmOp.CtxLdx64:
                    reads |= Context.SkBuffShadow.FieldsAt(ins.Offset, ins.Op switch { Isa.VmOp.CtxLdx8 => 1, Isa.VmOp.CtxLdx16 => 2, Isa.VmOp.CtxLdx32 => 4, _ => 8 });
                    break;
                case Isa.VmOp.CallHelper when ins.Imm == (int)Helpers.BpfHelperId.SkbVlanPush:
                    reads |= Context.ShadowFields.VlanPresent; // the inline push reads it (JitLowering.InlineVlanPush)
                    break;
                case Isa.VmOp.CtxSt32 or Isa.VmOp.CtxSt64 or Isa.VmOp.CtxStx32 or Isa.VmOp.CtxStx64 or Isa.VmOp.CtxStNarrow or Isa.VmOp.CtxStxNarrow:
                    stores = true;
                    break;
            }
        }
        if (stores) reads |= Context.ShadowFields.Filled;
        return (reads, stores);
    }

    /// <summary>Environment variable naming a directory: each compiled program's machine code is written there as
    /// <c>NAME.ARCH.bin</c> (raw bytes from the entry point), for <c>objdump -D -b binary -m i386:x86-64</c>
    /// (or <c>-m aarch64</c>).</summary>
    public const string DumpVariable = "META_APPLIANCE_JIT_DUMP";

    private static void Dump(LoadedProgram program, byte[] code)
    {
        if (Environment.GetEnvironmentVariable(DumpVariable) is not { Length: > 0 } directory) return;
        try
        {
            Directory.CreateDirectory(directory);
            string name = string.Concat(program.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_'));
            File.WriteAllBytes(Path.Combine(directory, $"{name}.{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}.bin"), code);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A diagnostic aid only: a directory that cannot be written does not stop the program from loading.
        }
    }
}

/// <summary>The outcome of compiling one program: its code, or why the interpreter runs it; and how many of its
/// memory accesses kept the run-time bounds check (the verifier proved the others); which fields of the
/// shadow <c>__sk_buff</c> a run writes before entering the code, and whether the code stores to it (see <c>ContextUse</c>).</summary>
internal sealed record JitCompilation(ExecutableMemory? Code, string? Reason, int CheckedAccesses,
    Context.ShadowFields ContextReads = Context.ShadowFields.All, bool StoresContext = true);
