using System.Runtime.InteropServices;
using System.Text;

namespace Appliance.Interop;

/// <summary>The kernel's bpf() system call with the bpf_attr layouts the appliance uses
/// (offsets from include/uapi/linux/bpf.h; see shared/reference/afxdp.md §11).</summary>
public static unsafe class BpfSyscall
{
    public const int MapCreate = 0, MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, MapGetNextKey = 4,
        ProgLoad = 5, ObjGet = 7, ProgTestRun = 10, MapLookupAndDeleteElem = 21, MapFreeze = 22, LinkCreate = 28, LinkUpdate = 29;

    /// <summary>BPF_F_REPLACE: BPF_LINK_UPDATE only when the link still runs the expected old program.</summary>
    public const uint FlagReplace = 1 << 2;

    /// <summary>lddw src values that name a map by fd (BPF_PSEUDO_MAP_FD) or a map value (BPF_PSEUDO_MAP_VALUE).</summary>
    public const int PseudoMapFd = 1, PseudoMapValue = 2;

    public const int ProgTypeSchedCls = 3, ProgTypeXdp = 6;
    public const int MapTypeHash = 1, MapTypeArray = 2, MapTypeXskMap = 17;

    private static long Nr => LibC.IsArm64 ? 280 : 321;

    /// <summary>Runs one bpf() command over a zeroed attr; returns the result or throws with the errno.</summary>
    public static int Invoke(int cmd, Span<byte> attr, string operation, string? target = null)
    {
        fixed (byte* p = attr)
        {
            long r = LibC.Syscall(Nr, cmd, (long)p, attr.Length);
            if (r < 0) throw PlatformException.FromLastError(operation, target);
            return (int)r;
        }
    }

    public static int CreateMap(int mapType, int keySize, int valueSize, int maxEntries, string name, uint flags = 0)
    {
        Span<byte> attr = stackalloc byte[72];
        attr.Clear();
        Write32(attr, 0, (uint)mapType);
        Write32(attr, 4, (uint)keySize);
        Write32(attr, 8, (uint)valueSize);
        Write32(attr, 12, (uint)maxEntries);
        Write32(attr, 16, flags);
        WriteName(attr.Slice(28, 16), name);
        return Invoke(MapCreate, attr, "bpf(BPF_MAP_CREATE)", name);
    }

    public static void UpdateElem(int mapFd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = 0)
    {
        int errno = TryUpdateElem(mapFd, key, value, flags);
        if (errno != 0) throw new PlatformException("bpf(BPF_MAP_UPDATE_ELEM)", null, errno);
    }

    /// <summary>BPF_MAP_UPDATE_ELEM without an exception: 0, or the errno (E2BIG when a hash map is full). For paths
    /// that count kernel errors instead of failing (the forwarding worker's learning).</summary>
    public static int TryUpdateElem(int mapFd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = 0)
    {
        fixed (byte* k = key) fixed (byte* v = value)
        {
            Span<byte> attr = stackalloc byte[32];
            attr.Clear();
            Write32(attr, 0, (uint)mapFd);
            Write64(attr, 8, (ulong)k);
            Write64(attr, 16, (ulong)v);
            Write64(attr, 24, flags);
            fixed (byte* p = attr)
                return LibC.Syscall(Nr, MapUpdateElem, (long)p, attr.Length) < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }

    /// <summary>Looks a key up; false when the kernel says ENOENT.</summary>
    public static bool LookupElem(int mapFd, ReadOnlySpan<byte> key, Span<byte> value) =>
        Lookup(MapLookupElem, "bpf(BPF_MAP_LOOKUP_ELEM)", mapFd, key, value);

    /// <summary>BPF_MAP_LOOKUP_AND_DELETE_ELEM (a queue or stack map's pop: empty key); false when empty.</summary>
    public static bool LookupAndDeleteElem(int mapFd, ReadOnlySpan<byte> key, Span<byte> value) =>
        Lookup(MapLookupAndDeleteElem, "bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM)", mapFd, key, value);

    private static bool Lookup(int command, string operation, int mapFd, ReadOnlySpan<byte> key, Span<byte> value)
    {
        fixed (byte* k = key) fixed (byte* v = value)
        {
            Span<byte> attr = stackalloc byte[32];
            attr.Clear();
            Write32(attr, 0, (uint)mapFd);
            Write64(attr, 8, (ulong)k);
            Write64(attr, 16, (ulong)v);
            fixed (byte* p = attr)
            {
                long r = LibC.Syscall(Nr, command, (long)p, attr.Length);
                if (r == 0) return true;
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.ENOENT) return false;
                throw new PlatformException(operation, null, errno);
            }
        }
    }

    /// <summary>Deletes a key; false when the kernel says ENOENT.</summary>
    public static bool DeleteElem(int mapFd, ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            Span<byte> attr = stackalloc byte[32];
            attr.Clear();
            Write32(attr, 0, (uint)mapFd);
            Write64(attr, 8, (ulong)k);
            return ReportAbsent(MapDeleteElem, attr, "bpf(BPF_MAP_DELETE_ELEM)");
        }
    }

    /// <summary>BPF_MAP_GET_NEXT_KEY: an empty <paramref name="key"/> asks for the first key; false after the last.</summary>
    public static bool GetNextKey(int mapFd, ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        fixed (byte* k = key) fixed (byte* n = nextKey)
        {
            Span<byte> attr = stackalloc byte[32];
            attr.Clear();
            Write32(attr, 0, (uint)mapFd);
            Write64(attr, 8, key.Length == 0 ? 0 : (ulong)k);
            Write64(attr, 16, (ulong)n);
            return ReportAbsent(MapGetNextKey, attr, "bpf(BPF_MAP_GET_NEXT_KEY)");
        }
    }

    /// <summary>BPF_OBJ_GET: a new fd for the map or program pinned at <paramref name="path"/> in a bpf filesystem.</summary>
    public static int GetPinned(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            Span<byte> attr = stackalloc byte[16];
            attr.Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(attr, (ulong)p);
            return Invoke(ObjGet, attr, "bpf(BPF_OBJ_GET)", path);
        }
    }

    /// <summary>BPF_MAP_FREEZE: user space can no longer write the map (libbpf does this to .rodata).</summary>
    public static void FreezeMap(int mapFd)
    {
        Span<byte> attr = stackalloc byte[8];
        attr.Clear();
        Write32(attr, 0, (uint)mapFd);
        Invoke(MapFreeze, attr, "bpf(BPF_MAP_FREEZE)");
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
            if (src == PseudoMapFd || src == PseudoMapValue)
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

    /// <summary>The number of possible CPUs (/sys/devices/system/cpu/possible): per-CPU map values from
    /// the kernel hold one 8-byte-aligned slot for each.</summary>
    public static int PossibleCpuCount()
    {
        var text = File.ReadAllText("/sys/devices/system/cpu/possible").Trim();
        int count = 0;
        foreach (var part in text.Split(','))
        {
            var range = part.Split('-');
            int lo = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            int hi = range.Length > 1 ? int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : lo;
            count += hi - lo + 1;
        }
        return count;
    }

    private static bool ReportAbsent(int cmd, Span<byte> attr, string operation)
    {
        fixed (byte* p = attr)
        {
            long r = LibC.Syscall(Nr, cmd, (long)p, attr.Length);
            if (r == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOENT) return false;
            throw new PlatformException(operation, null, errno);
        }
    }

    /// <summary>Loads a program; on rejection the exception carries the verifier log.</summary>
    public static int LoadProgram(int progType, ReadOnlySpan<ulong> insns, string name, string license = "GPL",
        int expectedAttachType = 0)
    {
        var log = new byte[64 * 1024];
        var lic = Encoding.ASCII.GetBytes(license + "\0");
        fixed (ulong* ins = insns) fixed (byte* l = lic) fixed (byte* lg = log)
        {
            Span<byte> attr = stackalloc byte[128];
            attr.Clear();
            Write32(attr, 0, (uint)progType);
            Write32(attr, 4, (uint)insns.Length);
            Write64(attr, 8, (ulong)ins);
            Write64(attr, 16, (ulong)l);
            Write32(attr, 24, 1);
            Write32(attr, 28, (uint)log.Length);
            Write64(attr, 32, (ulong)lg);
            WriteName(attr.Slice(48, 16), name);
            Write32(attr, 68, (uint)expectedAttachType);
            fixed (byte* p = attr)
            {
                long r = LibC.Syscall(Nr, ProgLoad, (long)p, attr.Length);
                if (r >= 0) return (int)r;
                int errno = Marshal.GetLastPInvokeError();
                var text = Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
                throw new PlatformException("bpf(BPF_PROG_LOAD)", name, errno,
                    text.Length == 0 ? null : "Kernel verifier says:\n" + text);
            }
        }
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
            Write32(attr, 0, (uint)progFd);          // prog_fd
            Write32(attr, 8, (uint)dataIn.Length);   // data_size_in
            Write32(attr, 12, (uint)dataOut.Length); // data_size_out
            Write64(attr, 16, (ulong)di);            // data_in
            Write64(attr, 24, (ulong)dout);          // data_out
            Write32(attr, 32, repeat);               // repeat
            Write32(attr, 40, (uint)ctxIn.Length);   // ctx_size_in
            Write32(attr, 44, (uint)ctxOut.Length);  // ctx_size_out
            Write64(attr, 48, ctxIn.Length == 0 ? 0 : (ulong)ci);
            Write64(attr, 56, ctxOut.Length == 0 ? 0 : (ulong)co);
            Invoke(ProgTestRun, attr, "bpf(BPF_PROG_TEST_RUN)");
            return (Read32(attr, 4), (int)Read32(attr, 12), Read32(attr, 36));
        }
    }

    /// <summary>BPF_LINK_CREATE for an XDP program on an interface; the link fd keeps it attached.</summary>
    public static int CreateXdpLink(int progFd, int ifindex, uint xdpFlags, string ifname)
    {
        Span<byte> attr = stackalloc byte[64];
        attr.Clear();
        Write32(attr, 0, (uint)progFd);
        Write32(attr, 4, (uint)ifindex);
        Write32(attr, 8, 37); // BPF_XDP
        Write32(attr, 12, xdpFlags);
        return Invoke(LinkCreate, attr, "bpf(BPF_LINK_CREATE, BPF_XDP)", ifname);
    }

    /// <summary>BPF_LINK_UPDATE: the link runs <paramref name="newProgFd"/> from now on, in one step (no moment
    /// without a program); with <paramref name="expectedOldProgFd"/> ≥ 0 only if it still runs that one (BPF_F_REPLACE).</summary>
    public static void UpdateLink(int linkFd, int newProgFd, int expectedOldProgFd, string target)
    {
        Span<byte> attr = stackalloc byte[16];
        attr.Clear();
        Write32(attr, 0, (uint)linkFd);
        Write32(attr, 4, (uint)newProgFd);
        if (expectedOldProgFd >= 0)
        {
            Write32(attr, 8, FlagReplace);
            Write32(attr, 12, (uint)expectedOldProgFd);
        }
        Invoke(LinkUpdate, attr, "bpf(BPF_LINK_UPDATE)", target);
    }

    private static void Write32(Span<byte> s, int off, uint v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(s[off..], v);
    private static void Write64(Span<byte> s, int off, ulong v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(s[off..], v);
    private static uint Read32(Span<byte> s, int off) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(s[off..]);

    private static void WriteName(Span<byte> dst, string name)
    {
        var n = Math.Min(name.Length, dst.Length - 1);
        for (int i = 0; i < n; i++)
        {
            char c = name[i];
            dst[i] = (byte)(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.' ? c : '_');
        }
    }
}
