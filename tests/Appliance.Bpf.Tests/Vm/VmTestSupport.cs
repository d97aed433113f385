using Appliance.Bpf.Assembly;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>Assembles, loads and runs small tc programs for the engine's tests.</summary>
internal static class VmTestSupport
{
    public const int Headroom = 64, Tailroom = 64;

    public static LoadedProgram Load(string assembly, params BpfMap[] maps) =>
        LoadedProgram.Load(new BpfProgramImage("test", "tc", BpfAssembler.Assemble(assembly)), maps, LinuxHelperTable.Instance);

    /// <summary><see cref="Load"/> for one engine: under the JIT the program must have compiled.</summary>
    public static LoadedProgram LoadFor(string assembly, bool jit, params BpfMap[] maps)
    {
        var program = Load(assembly, maps);
        if (jit) Xunit.Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        return program;
    }

    /// <summary>One run of <paramref name="program"/> on <paramref name="vm"/> over a 64-byte zero frame.</summary>
    public static BpfRunResult RunOnZeroFrame(BpfVm vm, LoadedProgram program)
    {
        var packet = Packet(new byte[64]);
        return vm.Run(program, ref packet);
    }

    /// <summary>The 8-byte word of <paramref name="key"/>'s value in CPU slot <paramref name="cpu"/>, as user space reads it.</summary>
    public static ulong UserValue(BpfMap map, byte[] key, int cpu = 0)
    {
        var value = new byte[map.UserValueSize];
        Xunit.Assert.True(map.TryLookupFromUser(key, value));
        return BitConverter.ToUInt64(value, cpu * 8);
    }

    /// <summary><paramref name="program"/> with r0 after its NULL check (<c>jeq %r0, 0, null</c>) moved by 0 in a way the
    /// verifier's pointer analysis does not follow (plus the frame's length shifted right by 7: a scalar it cannot
    /// bound, 0 for frames under 128 bytes), so the accesses through r0 are not placed at load and keep their run-time
    /// checks. Uses r8 (the context) and r9.</summary>
    public static string WithR0Unplaced(string program)
    {
        Xunit.Assert.Contains("jeq %r0, 0, null\n", program);
        return "mov %r8, %r1\n" + program.Replace("jeq %r0, 0, null\n", "jeq %r0, 0, null\nldxw %r9, [%r8+0]\nrsh %r9, 7\nadd %r0, %r9\n");
    }

    /// <summary>A frame in a managed buffer with 64 bytes of headroom and tailroom.</summary>
    public static PacketContext Packet(byte[] frame, int headroom = Headroom, int tailroom = Tailroom)
    {
        var buffer = new byte[headroom + frame.Length + tailroom];
        frame.CopyTo(buffer, headroom);
        var packet = PacketContext.FromArray(buffer, headroom, frame.Length);
        packet.Protocol = PacketContext.ProtocolOf(frame);
        return packet;
    }

    public static BpfRunResult Run(LoadedProgram program, ref PacketContext packet, BpfVmOptions? options = null)
    {
        using var vm = new BpfVm(options);
        return vm.Run(program, ref packet);
    }

    public static BpfRunResult Run(string assembly, byte[]? frame = null, params BpfMap[] maps)
    {
        var packet = Packet(frame ?? new byte[64]);
        return Run(Load(assembly, maps), ref packet);
    }

    /// <summary><paramref name="lookups"/> lookups of map 0 (an array of at least <paramref name="elements"/>, a power
    /// of two, with 4-byte keys) cycling over keys 0..elements-1, each adding 1 to the 8-byte value it finds; r0 =
    /// how many found their element (it stops at the first NULL).</summary>
    public static string CyclingLookups(int elements, int lookups) => $"""
        mov %r6, 0
        loop:
        mov %r1, %r6
        and %r1, {elements - 1}
        stxw [%r10-4], %r1
        mov %r2, %r10
        add %r2, -4
        lddw %r1, map[0]
        call 1
        jeq %r0, 0, out
        mov %r1, 1
        lock add [%r0+0], %r1
        add %r6, 1
        jlt %r6, {lookups}, loop
        out:
        mov %r0, %r6
        exit
        """;

    /// <summary>Ethernet + IPv4 (with a valid header checksum) + UDP, 64 bytes.</summary>
    public static byte[] Ipv4UdpFrame()
    {
        var f = new byte[64];
        byte[] mac = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        mac.CopyTo(f, 0);
        f[12] = 0x08; f[13] = 0x00;
        byte[] ip = [0x45, 0, 0, 50, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip.CopyTo(f, 14);
        ushort sum = IpChecksum(f.AsSpan(14, 20));
        f[24] = (byte)(sum >> 8); f[25] = (byte)sum;
        byte[] udp = [0x30, 0x39, 0x00, 0x35, 0, 30, 0, 0];
        udp.CopyTo(f, 34);
        return f;
    }

    /// <summary>RFC 1071 checksum of a header whose checksum field is included (0 when valid).</summary>
    public static ushort IpChecksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < header.Length; i += 2) sum += (uint)(header[i] << 8 | header[i + 1]);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
