using System.Buffers.Binary;
using Appliance.Bpf.Isa;
using Appliance.Interop;

namespace Appliance.Bpf.Oracle;

/// <summary>The bpf() commands only the kernel oracle and the kernel differential tests need (the appliance's own
/// are in <see cref="BpfSyscall"/>, whose Invoke calls these go through). bpf_attr offsets from
/// include/uapi/linux/bpf.h.</summary>
public static unsafe class KernelBpf
{
    private const int MapGetNextKey = 4, ObjGet = 7, ProgTestRun = 10, MapLookupAndDeleteElem = 21, MapFreeze = 22;

    /// <summary>BPF_PROG_TYPE_SCHED_CLS: the type the oracle loads programs as (__sk_buff context, test runs).</summary>
    public const int ProgTypeSchedCls = 3;

    /// <summary>BPF_MAP_LOOKUP_AND_DELETE_ELEM (a queue or stack map's pop: empty key); false when empty.</summary>
    public static bool LookupAndDeleteElem(int mapFd, ReadOnlySpan<byte> key, Span<byte> value) =>
        KeyValueCommand(MapLookupAndDeleteElem, mapFd, key, value, "bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM)");

    /// <summary>BPF_MAP_GET_NEXT_KEY: an empty <paramref name="key"/> asks for the first key; false after the last.</summary>
    public static bool GetNextKey(int mapFd, ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        KeyValueCommand(MapGetNextKey, mapFd, key, nextKey, "bpf(BPF_MAP_GET_NEXT_KEY)");

    /// <summary>A map command over map_fd, key and value (or next_key) in bpf_attr; an empty span passes NULL. False
    /// when the kernel says ENOENT.</summary>
    private static bool KeyValueCommand(int cmd, int mapFd, ReadOnlySpan<byte> key, Span<byte> value, string operation)
    {
        fixed (byte* k = key) fixed (byte* v = value)
        {
            Span<byte> attr = stackalloc byte[32];
            attr.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)mapFd);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[8..], key.Length == 0 ? 0 : (ulong)k);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], value.Length == 0 ? 0 : (ulong)v);
            return BpfSyscall.InvokeUnlessAbsent(cmd, attr, operation);
        }
    }

    /// <summary>BPF_OBJ_GET: a new fd for the map or program pinned at <paramref name="path"/> in a bpf filesystem.</summary>
    public static int GetPinned(string path)
    {
        fixed (byte* p = Utf8Z.Of(path))
        {
            Span<byte> attr = stackalloc byte[16];
            attr.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(attr, (ulong)p);
            return BpfSyscall.Invoke(ObjGet, attr, "bpf(BPF_OBJ_GET)", path);
        }
    }

    /// <summary>BPF_MAP_FREEZE: user space can no longer write the map (libbpf does this to .rodata).</summary>
    public static void FreezeMap(int mapFd)
    {
        Span<byte> attr = stackalloc byte[8];
        attr.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)mapFd);
        BpfSyscall.Invoke(MapFreeze, attr, "bpf(BPF_MAP_FREEZE)");
    }

    /// <summary>A copy of <paramref name="insns"/> whose map references (lddw with src 1 or 2) carry kernel
    /// map fds: imm, a map index, becomes <paramref name="mapFds"/>[index]; src and the second slot stay.</summary>
    public static ulong[] WithMapFds(ReadOnlySpan<ulong> insns, ReadOnlySpan<int> mapFds)
    {
        var result = insns.ToArray();
        for (int i = 0; i + 1 < result.Length; i++)
        {
            if ((byte)result[i] != 0x18) continue;
            int src = (int)((result[i] >> 12) & 0xf);
            if (src == BpfOpcodes.PseudoMapFd || src == BpfOpcodes.PseudoMapValue)
            {
                int index = (int)(result[i] >> 32);
                if ((uint)index >= (uint)mapFds.Length)
                    throw new ArgumentException($"instruction {i}: map index {index} but only {mapFds.Length} maps", nameof(insns));
                result[i] = (result[i] & 0xffffffffUL) | ((ulong)(uint)mapFds[index] << 32);
            }
            i++;
        }
        return result;
    }

    /// <summary>BPF_PROG_TEST_RUN: runs the program on <paramref name="dataIn"/> (and an optional
    /// __sk_buff context) <paramref name="repeat"/> times; returns the verdict, output length and the
    /// average duration in ns.</summary>
    public static (uint Retval, int DataOutLength, uint DurationNs) TestRun(int progFd, ReadOnlySpan<byte> dataIn,
        Span<byte> dataOut, Span<byte> ctxIn = default, Span<byte> ctxOut = default, uint repeat = 1)
    {
        fixed (byte* di = dataIn) fixed (byte* dout = dataOut) fixed (byte* ci = ctxIn) fixed (byte* co = ctxOut)
        {
            Span<byte> attr = stackalloc byte[80];
            attr.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)progFd);                 // prog_fd
            BinaryPrimitives.WriteUInt32LittleEndian(attr[8..], (uint)dataIn.Length);     // data_size_in
            BinaryPrimitives.WriteUInt32LittleEndian(attr[12..], (uint)dataOut.Length);   // data_size_out
            BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], (ulong)di);              // data_in
            BinaryPrimitives.WriteUInt64LittleEndian(attr[24..], (ulong)dout);            // data_out
            BinaryPrimitives.WriteUInt32LittleEndian(attr[32..], repeat);                 // repeat
            BinaryPrimitives.WriteUInt32LittleEndian(attr[40..], (uint)ctxIn.Length);     // ctx_size_in
            BinaryPrimitives.WriteUInt32LittleEndian(attr[44..], (uint)ctxOut.Length);    // ctx_size_out
            BinaryPrimitives.WriteUInt64LittleEndian(attr[48..], ctxIn.Length == 0 ? 0 : (ulong)ci);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[56..], ctxOut.Length == 0 ? 0 : (ulong)co);
            BpfSyscall.Invoke(ProgTestRun, attr, "bpf(BPF_PROG_TEST_RUN)");
            return (BinaryPrimitives.ReadUInt32LittleEndian(attr[4..]), (int)BinaryPrimitives.ReadUInt32LittleEndian(attr[12..]),
                BinaryPrimitives.ReadUInt32LittleEndian(attr[36..]));
        }
    }
}
