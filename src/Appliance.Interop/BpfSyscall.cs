using System.Runtime.InteropServices;
using System.Text;

namespace Appliance.Interop;

/// <summary>The kernel's bpf() system call with the bpf_attr layouts the appliance uses
/// (offsets from include/uapi/linux/bpf.h; see shared/reference/afxdp.md §11).</summary>
public static unsafe class BpfSyscall
{
    public const int MapCreate = 0, MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, ProgLoad = 5,
        LinkCreate = 28, LinkUpdate = 29;

    /// <summary>BPF_F_REPLACE: BPF_LINK_UPDATE only when the link still runs the expected old program.</summary>
    public const uint FlagReplace = 1 << 2;

    public const int ProgTypeXdp = 6;
    public const int MapTypeHash = 1, MapTypeXskMap = 17;

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

    public static int CreateMap(int mapType, int keySize, int valueSize, int maxEntries, string name, uint flags = 0, int innerMapFd = 0)
    {
        Span<byte> attr = stackalloc byte[72];
        attr.Clear();
        Write32(attr, 0, (uint)mapType);
        Write32(attr, 4, (uint)keySize);
        Write32(attr, 8, (uint)valueSize);
        Write32(attr, 12, (uint)maxEntries);
        Write32(attr, 16, flags);
        Write32(attr, 20, (uint)innerMapFd); // maps of maps: the template map
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
    public static bool LookupElem(int mapFd, ReadOnlySpan<byte> key, Span<byte> value)
    {
        fixed (byte* k = key) fixed (byte* v = value)
        {
            Span<byte> attr = stackalloc byte[32];
            attr.Clear();
            Write32(attr, 0, (uint)mapFd);
            Write64(attr, 8, (ulong)k);
            Write64(attr, 16, (ulong)v);
            return InvokeUnlessAbsent(MapLookupElem, attr, "bpf(BPF_MAP_LOOKUP_ELEM)");
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
            return InvokeUnlessAbsent(MapDeleteElem, attr, "bpf(BPF_MAP_DELETE_ELEM)");
        }
    }

    /// <summary>Runs one bpf() command over <paramref name="attr"/>: true on success, false when the kernel says
    /// ENOENT (no such key, no next key, an empty queue); other errors throw.</summary>
    public static bool InvokeUnlessAbsent(int cmd, Span<byte> attr, string operation)
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
        fixed (ulong* ins = insns) fixed (byte* l = Utf8Z.Of(license)) fixed (byte* lg = log)
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

    /// <summary>BPF_LINK_CREATE for an XDP program on an interface; the link fd keeps it attached.</summary>
    public static int CreateXdpLink(int progFd, int ifindex, uint xdpFlags, string ifname)
    {
        Span<byte> attr = stackalloc byte[64];
        attr.Clear();
        Write32(attr, 0, (uint)progFd);
        Write32(attr, 4, (uint)ifindex);
        Write32(attr, 8, XdpFlags.AttachTypeXdp);
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
