using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_l3_csum_replace (10), bpf_l4_csum_replace (11), bpf_csum_diff (28), bpf_csum_update (40) and
/// bpf_csum_level (135) as net/core/filter.c (frames are CHECKSUM_NONE, so BPF_F_PSEUDO_HDR changes nothing, like
/// BPF_PROG_TEST_RUN). Offsets count from the start of the packet (skb->data).</summary>
internal static class ChecksumHelpers
{
    public const ulong HeaderFieldMask = 0xf, PseudoHeader = 0x10, MarkMangled0 = 0x20, MarkEnforce = 0x40, Ipv6 = 0x80;
    private const ushort CsumMangled0 = 0xffff;

    public static HelperOutcome L3Replace(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong offset = (uint)vm.Argument(2), from = vm.Argument(3), to = vm.Argument(4), flags = vm.Argument(5);
        if ((flags & ~HeaderFieldMask) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!TryField(vm, offset, out var field)) return LinuxHelperTable.Error(vm, Errno.EFAULT);
        ushort sum = BinaryPrimitives.ReadUInt16LittleEndian(field);
        switch (flags & HeaderFieldMask)
        {
            case 0:
                if (from != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
                sum = InternetChecksum.ReplaceByDiff(sum, (uint)to);
                break;
            case 2: sum = InternetChecksum.Replace2(sum, (ushort)from, (ushort)to); break;
            case 4: sum = InternetChecksum.Replace4(sum, (uint)from, (uint)to); break;
            default: return LinuxHelperTable.Error(vm, Errno.EINVAL);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(field, sum);
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome L4Replace(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong offset = (uint)vm.Argument(2), from = vm.Argument(3), to = vm.Argument(4), flags = vm.Argument(5);
        bool mangled0 = (flags & MarkMangled0) != 0, enforce = (flags & MarkEnforce) != 0;
        if ((flags & ~(MarkMangled0 | MarkEnforce | PseudoHeader | Ipv6 | HeaderFieldMask)) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!TryField(vm, offset, out var field)) return LinuxHelperTable.Error(vm, Errno.EFAULT);
        ushort sum = BinaryPrimitives.ReadUInt16LittleEndian(field);
        if (mangled0 && !enforce && sum == 0) return LinuxHelperTable.Return(vm, 0);
        switch (flags & HeaderFieldMask)
        {
            case 0:
                if (from != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
                sum = InternetChecksum.ReplaceByDiff(sum, (uint)to);
                break;
            case 2: sum = InternetChecksum.Replace4(sum, (ushort)from, (ushort)to); break;
            case 4: sum = InternetChecksum.Replace4(sum, (uint)from, (uint)to); break;
            default: return LinuxHelperTable.Error(vm, Errno.EINVAL);
        }
        if (mangled0 && sum == 0) sum = CsumMangled0;
        BinaryPrimitives.WriteUInt16LittleEndian(field, sum);
        return LinuxHelperTable.Return(vm, 0);
    }

    /// <summary>Kernel 6.13+: any byte lengths (no multiple-of-4 rule any more); from and to both →
    /// from32to16(partial(to, seed) − partial(from)); only to → from32to16(partial(to, seed)); only from →
    /// from32to16(~partial(from, ~seed)); neither → from32to16(seed). The kernel's verifier checks each size
    /// against its buffer; here a size past the memory faults the run.</summary>
    public static HelperOutcome Diff(BpfVm vm)
    {
        ulong fromSize = vm.Argument(2), toSize = vm.Argument(4);
        uint seed = (uint)vm.Argument(5);
        if (fromSize > int.MaxValue || toSize > int.MaxValue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(1), (int)fromSize, false, out var from)
            || !vm.TryGetMemory(vm.Argument(3), (int)toSize, false, out var to))
            return HelperOutcome.Fault;
        ulong result;
        if (fromSize != 0 && toSize != 0)
            result = InternetChecksum.From32To16(InternetChecksum.Sub(InternetChecksum.Partial(to, seed), InternetChecksum.Partial(from, 0)));
        else if (toSize != 0)
            result = InternetChecksum.From32To16(InternetChecksum.Partial(to, seed));
        else if (fromSize != 0)
            result = InternetChecksum.From32To16(~InternetChecksum.Partial(from, ~seed));
        else
            result = InternetChecksum.From32To16(seed);
        return LinuxHelperTable.Return(vm, result);
    }

    /// <summary>The 2-byte checksum field at <paramref name="offset"/>: kernel rules offset ≤ 0xffff, even, and
    /// inside the packet (bpf_try_make_writable).</summary>
    private static bool TryField(BpfVm vm, ulong offset, out Span<byte> field)
    {
        field = default;
        ref var packet = ref vm.Packet;
        if (offset > 0xffff || (offset & 1) != 0 || offset + 2 > (ulong)packet.Length) return false;
        field = packet.Data.Slice((int)offset, 2);
        return true;
    }
    public const ulong CsumLevelQuery = 0, CsumLevelInc = 1, CsumLevelDec = 2, CsumLevelReset = 3;

    /// <summary>bpf_csum_update (40): only a CHECKSUM_COMPLETE skb has a checksum to update; appliance frames never
    /// are, so -ENOTSUPP, as the kernel answers for them.</summary>
    public static HelperOutcome Update(BpfVm vm) =>
        vm.IsContext(vm.Argument(1)) ? LinuxHelperTable.Error(vm, Errno.ENOTSUPP) : vm.Fail(BpfFault.HelperMisuse);

    /// <summary>bpf_csum_level (135) on the run's CHECKSUM_UNNECESSARY state (<see cref="BpfVm.ChecksumLevel"/>; a frame
    /// starts CHECKSUM_NONE): INC makes a NONE frame UNNECESSARY at level 0 or raises the level up to 3, DEC lowers it
    /// or makes it NONE from 0, RESET makes it NONE, QUERY gives the level or -EACCES for NONE; other levels -EINVAL.</summary>
    public static HelperOutcome Level(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        int level = vm.ChecksumLevel;
        switch (vm.Argument(2))
        {
            case CsumLevelQuery:
                return level < 0 ? LinuxHelperTable.Error(vm, Errno.EACCES) : LinuxHelperTable.Return(vm, (ulong)level);
            case CsumLevelInc: vm.ChecksumLevel = Math.Min(level + 1, BpfVm.MaxChecksumLevel); break;
            case CsumLevelDec: vm.ChecksumLevel = level - 1 < 0 ? BpfVm.ChecksumNone : level - 1; break;
            case CsumLevelReset: vm.ChecksumLevel = BpfVm.ChecksumNone; break;
            default: return LinuxHelperTable.Error(vm, Errno.EINVAL);
        }
        return LinuxHelperTable.Return(vm, 0);
    }
}
