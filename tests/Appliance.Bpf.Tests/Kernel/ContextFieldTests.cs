using Appliance.Bpf.Assembly;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Oracle;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Every <c>__sk_buff</c> field, field by field, against the kernel: which loads and stores the kernel
/// verifier accepts for a tc program (our verifier must accept and refuse the same), what each readable field
/// reads, and what each writable field keeps after a store (read back in the same run, and in the context the
/// run hands back). Small hand-assembled programs, one access each, loaded with BPF_PROG_LOAD and run with
/// BPF_PROG_TEST_RUN as the oracle.</summary>
[Collection(KernelCollection.Name)]
public class ContextFieldTests
{
    private static readonly int[] Sizes = [1, 2, 4, 8];

    private static string Suffix(int size) => size switch { 1 => "b", 2 => "h", 4 => "w", _ => "dw" };

    private static bool KernelAccepts(ulong[] code, out string log)
    {
        try
        {
            LibC.Close(BpfSyscall.LoadProgram(KernelBpf.ProgTypeSchedCls, code, "ctx_rule"));
            log = "";
            return true;
        }
        catch (PlatformException e)
        {
            log = e.Message;
            return false;
        }
    }

    private static bool EngineAccepts(ulong[] code, out string reason)
    {
        try
        {
            BpfVerifier.Verify(new BpfProgramImage("ctx_rule", "tc", code), 0, LinuxHelperTable.Instance);
            reason = "";
            return true;
        }
        catch (BpfVerifierException e)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>All 192 offsets × 4 sizes × (load, register store, immediate store).</summary>
    [PrivilegedFact]
    public void LoadTimeAccessRulesMatchTheKernelVerifier()
    {
        var mismatches = new List<string>();
        int accepted = 0;
        for (int off = 0; off < SkBuffLayout.Size; off++)
        {
            foreach (int size in Sizes)
            {
                string s = Suffix(size);
                foreach (var (kind, asm) in new[]
                {
                    ("load", $"ldx{s} %r0, [%r1+{off}]\nmov %r0, 0\nexit"),
                    ("store", $"mov %r2, 7\nstx{s} [%r1+{off}], %r2\nmov %r0, 0\nexit"),
                    ("store-imm", $"st{s} [%r1+{off}], 7\nmov %r0, 0\nexit"),
                })
                {
                    var code = BpfAssembler.Assemble(asm);
                    bool kernel = KernelAccepts(code, out string log);
                    bool engine = EngineAccepts(code, out string reason);
                    if (kernel) accepted++;
                    if (kernel != engine)
                        mismatches.Add($"{kind} {size} bytes at {off} ({SkBuffLayout.FieldName(off)}): kernel {(kernel ? "accepts" : "refuses")}, engine {(engine ? "accepts" : "refuses: " + reason)}"
                            + (kernel ? "" : $" [{log.Split('\n').Reverse().Skip(1).FirstOrDefault()}]"));
                }
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} access rules differ:\n" + string.Join('\n', mismatches.Take(40)));
        Assert.True(accepted > 100, $"the kernel accepted only {accepted} accesses; the test is not exercising the rules");
    }

    private static readonly (string Name, byte[] Frame)[] Frames =
    [
        ("ipv4-tcp", PacketBuilder.Ipv4(PacketBuilder.Tcp, [10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 33)),
        ("ipv6-udp+vlan", PacketBuilder.Ipv6(PacketBuilder.Udp, new byte[16], new byte[16], 5, 53, 7, vlan: 42)),
        ("arp-broadcast", PacketBuilder.Arp()),
    ];

    private static byte[] Context() => KernelSkBuff.Create(mark: 0x11223344, priority: 0x55667788, ifindex: 1,
        cb: [0xa0a1a2a3, 0xb0b1b2b3, 0xc0c1c2c3, 0xd0d1d2d3, 0xe0e1e2e3], ingressIfindex: 1, tstamp: 0x0102030405060708);

    private static (uint Kernel, uint Engine, byte[] KernelSkb, EngineRunResult EngineRun) RunBoth(string asm, byte[] frame, bool jit)
    {
        var code = BpfAssembler.Assemble(asm);
        int fd = BpfSyscall.LoadProgram(KernelBpf.ProgTypeSchedCls, code, "ctx_field");
        try
        {
            var skb = Context();
            var ctxOut = new byte[KernelSkBuff.Size];
            var dataOut = new byte[frame.Length + 256];
            var (retval, _, _) = KernelBpf.TestRun(fd, frame, dataOut, skb, ctxOut);
            using var vm = new BpfVm(new BpfVmOptions { InterfaceMtus = EngineObject.KernelLikeOptions.InterfaceMtus, UseJit = jit });
            var program = LoadedProgram.Load(new BpfProgramImage("ctx_field", "tc", code), [], LinuxHelperTable.Instance);
            Assert.Equal(jit ? "jit" : "interpreter", program.EngineName(vm.Options.UseJit));
            var e = EngineObject.Run(program, frame, Context(), vm);
            Assert.Equal(BpfFault.None, e.Run.Fault);
            return (retval, (uint)e.Run.R0, ctxOut, e);
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>Every load the kernel allows (full and narrow, each byte lane), except the packet pointers
    /// (addresses differ by design; <see cref="PacketPointersSpanTheFrame"/> covers them) and <c>sk</c> (the
    /// kernel's test run attaches a dummy socket; the appliance has none, so it reads 0 — a test-run limitation).</summary>
    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryReadableFieldReadsWhatTheKernelReads(bool jit)
    {
        var mismatches = new List<string>();
        int compared = 0;
        foreach (var (name, frame) in Frames)
        {
            for (int off = 0; off < SkBuffLayout.Size; off++)
            {
                if (off is >= SkBuffLayout.Data and < SkBuffLayout.NapiId or >= SkBuffLayout.DataMeta and < SkBuffLayout.DataMeta + 4
                    or >= SkBuffLayout.Sk and < SkBuffLayout.GsoSize) continue;
                foreach (int size in Sizes)
                {
                    if (SkBuffLayout.CheckAccess(off, size, write: false) is not null) continue;
                    string load = $"ldx{Suffix(size)} %r0, [%r1+{off}]\n";
                    foreach (string tail in size == 8 ? new[] { "exit", "rsh %r0, 32\nexit" } : ["exit"])
                    {
                        var (k, e, _, _) = RunBoth(load + tail, frame, jit);
                        compared++;
                        if (k != e) mismatches.Add($"{name}: {size}-byte load at {off} ({SkBuffLayout.FieldName(off)}{(tail.Length > 4 ? ", high half" : "")}): kernel 0x{k:x}, engine 0x{e:x}");
                    }
                }
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} reads differ:\n" + string.Join('\n', mismatches.Take(40)));
    }

    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void PacketPointersSpanTheFrame(bool jit)
    {
        const string Span = "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nldxw %r4, [%r1+140]\nmov %r0, %r3\nsub %r0, %r2\nlsh %r0, 8\nsub %r2, %r4\nor %r0, %r2\nexit";
        foreach (var (name, frame) in Frames)
        {
            var (k, e, _, _) = RunBoth(Span, frame, jit);
            Assert.True(k == e, $"{name}: kernel 0x{k:x}, engine 0x{e:x}");
            Assert.Equal((uint)frame.Length << 8, k); // data_end - data = len, data_meta = data
        }
    }

    private static readonly uint[] Values = [0, 1, 0x1234, 0xfffe, 0xffff, 0x10000, 0x12345, 0x8000_0001, 0xffff_fffc, 0xffff_ffff];

    /// <summary>Register values whose upper 32 bits are set (a 4-byte store writes the low ones): the kernel's
    /// queue_mapping rewrite compares the whole register.</summary>
    private static readonly ulong[] WideRegisterValues = [0x1_0000_0005, 0xffff_ffff_0000_0001, 0x8000_0000_0000_1234];

    /// <summary>Each writable field: register and immediate stores of values around the 16-bit limits, read
    /// back in the same run (4 bytes and each narrow lane) and compared with the context the run hands back.</summary>
    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryWritableFieldKeepsWhatTheKernelKeeps(bool jit)
    {
        var frame = Frames[0].Frame;
        var fields = new List<int> { SkBuffLayout.Mark, SkBuffLayout.Priority, SkBuffLayout.TcIndex, SkBuffLayout.TcClassId, SkBuffLayout.QueueMapping };
        for (int i = 0; i < SkBuffLayout.CbCount; i++) fields.Add(SkBuffLayout.Cb + 4 * i);
        var mismatches = new List<string>();
        foreach (int field in fields)
        {
            foreach (ulong value in Values.Select(v => (ulong)v).Concat(WideRegisterValues))
            {
                foreach (bool imm in new[] { false, true })
                {
                    // The kernel compares an immediate stored to queue_mapping as a signed 32-bit value (a negative
                    // one is kept, truncated to 16 bits) and a register as its whole 64 bits.
                    if (imm && value > uint.MaxValue) continue;
                    string store = imm ? $"stw [%r1+{field}], {(int)value}\n" : $"lddw %r2, 0x{value:x}\nstxw [%r1+{field}], %r2\n";
                    foreach (var (what, readBack) in new[] { ("w", $"ldxw %r0, [%r1+{field}]"), ("h+2", $"ldxh %r0, [%r1+{field + 2}]"), ("b+1", $"ldxb %r0, [%r1+{field + 1}]") })
                    {
                        var (k, e, kSkb, eRun) = RunBoth(store + readBack + "\nexit", frame, jit);
                        if (k != e)
                            mismatches.Add($"{SkBuffLayout.FieldName(field)} = 0x{value:x} ({(imm ? "imm" : "reg")}), read {what}: kernel 0x{k:x}, engine 0x{e:x}");
                        if (!kSkb.AsSpan().SequenceEqual(eRun.SkBuff))
                            mismatches.Add($"{SkBuffLayout.FieldName(field)} = 0x{value:x}: the context after the run differs");
                        if (what == "w")
                        {
                            uint kept = field switch
                            {
                                SkBuffLayout.TcIndex => eRun.Packet.TcIndex,
                                SkBuffLayout.TcClassId => eRun.Packet.TcClassId,
                                SkBuffLayout.QueueMapping => eRun.Packet.QueueMapping,
                                SkBuffLayout.Mark => eRun.Packet.Mark,
                                SkBuffLayout.Priority => eRun.Packet.Priority,
                                _ => eRun.Packet.Cb[(field - SkBuffLayout.Cb) / 4],
                            };
                            if (kept != k) mismatches.Add($"{SkBuffLayout.FieldName(field)} = 0x{value:x}: the frame keeps 0x{kept:x}, the kernel reads 0x{k:x}");
                        }
                    }
                }
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} writes differ:\n" + string.Join('\n', mismatches.Take(40)));
    }

    /// <summary>tstamp (8-byte only) and cb[] written with 1, 2 and 8-byte stores.</summary>
    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void TstampAndCbWideAndNarrowStoresMatchTheKernel(bool jit)
    {
        var frame = Frames[1].Frame;
        string[] programs =
        [
            "lddw %r2, 0x1122334455667788\nstxdw [%r1+152], %r2\nldxdw %r0, [%r1+152]\nrsh %r0, 16\nexit",
            "stdw [%r1+152], -5\nldxdw %r0, [%r1+152]\nexit",
            "lddw %r2, 0x0102030405060708\nstxdw [%r1+48], %r2\nstxdw [%r1+56], %r2\nldxw %r0, [%r1+52]\nexit",
            "mov %r2, 0x5a\nstxb [%r1+49], %r2\nsth [%r1+62], 0x7777\nstb [%r1+67], 9\nldxw %r0, [%r1+48]\nexit",
        ];
        foreach (string asm in programs)
        {
            var (k, e, kSkb, eRun) = RunBoth(asm, frame, jit);
            Assert.True(k == e, $"{asm}: kernel 0x{k:x}, engine 0x{e:x}");
            Assert.True(kSkb.AsSpan().SequenceEqual(eRun.SkBuff), $"{asm}: the context after the run differs:\nkernel {Convert.ToHexString(kSkb)}\nengine {Convert.ToHexString(eRun.SkBuff)}");
        }
    }
}
