using System.Globalization;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Conformance;

/// <summary>The bpf_conformance plugin protocol (ebpf.md §3): <c>plugin [&lt;base16 memory&gt;] [options]</c>,
/// the program as base16 bytes on stdin (raw little-endian instructions), r1 = a writable copy of the memory,
/// r2 = its length; success prints r0 in hex and returns 0, failure writes a message to stderr and returns 1.
/// The program is verified (conformance options: r1 and r2 set at entry) and run with the test-mode helper
/// table (helper 5 = unwind). Plugin option <c>--jit</c> runs it as native code from the JIT (the runner's
/// <c>--plugin_options --jit</c>); without it the interpreter runs it.</summary>
public static class ConformancePlugin
{
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            string? memoryHex = null;
            bool jit = false;
            foreach (string arg in args)
            {
                if (arg == "--elf") { stderr.WriteLine("ELF input (--elf) is not supported by this plugin; run without --elf"); return 1; }
                if (arg == "--jit") { jit = true; continue; }
                if (arg.StartsWith("--", StringComparison.Ordinal)) continue;
                memoryHex ??= arg;
            }
            byte[]? memory = string.IsNullOrWhiteSpace(memoryHex) ? null : ParseHex(memoryHex);
            byte[] program = ParseHex(stdin.ReadToEnd());
            var (result, unavailable) = Execute(program, memory, jit);
            if (unavailable is { } reason)
            {
                stderr.WriteLine($"--jit: the JIT cannot run this program here: {reason}");
                return 1;
            }
            if (result.Faulted)
            {
                stderr.WriteLine($"program stopped at instruction {result.FaultInstruction}: {result.Fault}");
                return 1;
            }
            stdout.WriteLine($"0x{result.R0:x}");
            return 0;
        }
        catch (Exception e) when (e is BpfVerifierException or FormatException or ArgumentException)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>Loads and runs raw program bytes in the conformance contract.</summary>
    public static (BpfRunResult Result, string? JitUnavailable) Execute(byte[] program, byte[]? memory, bool jit)
    {
        if (program.Length % 8 != 0) throw new FormatException($"the program is {program.Length} bytes, not a multiple of 8");
        var slots = new ulong[program.Length / 8];
        for (int i = 0; i < slots.Length; i++) slots[i] = BitConverter.ToUInt64(program, i * 8);
        return Execute(slots, memory, jit);
    }

    /// <summary>Runs <paramref name="slots"/>; with <paramref name="jit"/> through the JIT. The second value is
    /// null, or why the JIT could not compile the program (then nothing ran and the result is default).</summary>
    public static (BpfRunResult Result, string? JitUnavailable) Execute(ulong[] slots, byte[]? memory, bool jit)
    {
        var image = new BpfProgramImage("conformance", "conformance", slots);
        var loaded = LoadedProgram.Load(image, [], ConformanceHelperTable.Instance, BpfVerifierOptions.Conformance);
        if (jit && loaded.JitUnavailableReason is { } reason) return (default, reason);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        return (vm.RunWithMemory(loaded, memory), null);
    }

    /// <summary>Base16 bytes, with or without whitespace between them.</summary>
    public static byte[] ParseHex(string text)
    {
        var digits = new System.Text.StringBuilder(text.Length);
        foreach (char c in text)
            if (!char.IsWhiteSpace(c)) digits.Append(c);
        if (digits.Length % 2 != 0) throw new FormatException("odd number of hex digits");
        var bytes = new byte[digits.Length / 2];
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = byte.Parse(digits.ToString(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return bytes;
    }
}
