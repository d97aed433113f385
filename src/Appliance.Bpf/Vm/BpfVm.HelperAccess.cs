using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Vm;

/// <summary>The surface helper implementations use during a call: arguments, the result, checked access to
/// program memory, map handles, the packet, and per-run outputs (redirect target, tail call).</summary>
public sealed unsafe partial class BpfVm
{
    /// <summary>Argument register r1..r5 of the current helper call.</summary>
    public ulong Argument(int n) => (uint)(n - 1) < 5 ? _registers[n] : throw new ArgumentOutOfRangeException(nameof(n));

    /// <summary>r0.</summary>
    public ulong ReturnValue
    {
        get => _registers[0];
        set => _registers[0] = value;
    }

    /// <summary>The program being run.</summary>
    public LoadedProgram CurrentProgram => _program ?? throw new InvalidOperationException("no program is running");

    /// <summary>True when the run has a packet (tc mode), false in the conformance memory mode.</summary>
    public bool HasPacket => _hasPacket;

    /// <summary>The packet of a tc run. After changing its extent call <see cref="PacketChanged"/>.</summary>
    public ref PacketContext Packet => ref _packet is null ? ref _noPacket : ref Unsafe.AsRef<PacketContext>(_packet);

    /// <summary>The kernel's skb->encapsulation for this run: set by an encapsulating bpf_skb_adjust_room.</summary>
    public bool Encapsulated { get; internal set; }

    /// <summary>Where the network header is in the packet for this run (the kernel's skb_network_offset): 14 at the start,
    /// as eth_type_trans leaves it; bpf_skb_change_head moves the packet start back and leaves the header where it was,
    /// and a pop of an in-band tag brings it 4 bytes closer, not below 14 (a push that writes the offloaded tag into the
    /// frame moves the header with the packet start: the offset stays). LD_ABS/LD_IND at SKF_NET_OFF, bpf_skb_load_bytes_relative,
    /// bpf_skb_change_tail's shortest length, bpf_skb_adjust_room, bpf_skb_change_proto and bpf_skb_ecn_set_ce use it.</summary>
    public int NetworkOffset { get; internal set; } = Helpers.PacketResizeHelpers.EthHeaderLength;

    /// <summary>The kernel's CHECKSUM_UNNECESSARY level for this run (0–<see cref="MaxChecksumLevel"/>), or
    /// <see cref="ChecksumNone"/>: frames start CHECKSUM_NONE; bpf_csum_level changes it, and bpf_skb_adjust_room resets
    /// it unless BPF_F_ADJ_ROOM_NO_CSUM_RESET.</summary>
    public int ChecksumLevel { get; internal set; } = ChecksumNone;

    public const int ChecksumNone = -1, MaxChecksumLevel = 3;

    /// <summary>True when <paramref name="address"/> is the program's <c>__sk_buff</c> (r1 at entry).</summary>
    public bool IsContext(ulong address) => _hasPacket && address == VirtualAddress.RegionBase(VirtualAddress.ContextRegion);

    /// <summary>Program memory [address, +length) as a span, or false after recording a fault (out of bounds,
    /// or read-only when <paramref name="write"/>). A zero length is always valid.</summary>
    public bool TryGetMemory(ulong address, int length, bool write, out Span<byte> memory)
    {
        memory = default;
        if (length == 0) return true;
        if (length < 0) { _fault = BpfFault.HelperMisuse; return false; }
        ref byte p = ref Translate(address, length, write);
        if (Unsafe.IsNullRef(ref p)) return false;
        memory = MemoryMarshal.CreateSpan(ref p, length);
        return true;
    }

    /// <summary>One byte of program memory, or false — recording no fault — where nothing readable is: for helpers
    /// that, as the kernel's nofault reads, take unreadable memory as empty (%s and %pI4 of the printf helpers).</summary>
    public bool TryReadByte(ulong address, out byte value)
    {
        var before = _fault;
        ref byte p = ref Translate(address, 1, false);
        if (Unsafe.IsNullRef(ref p))
        {
            _fault = before;
            value = 0;
            return false;
        }
        value = p;
        return true;
    }

    /// <summary>The NUL-terminated string at <paramref name="address"/>, in place and without its NUL: the bytes before
    /// the first NUL among the first <paramref name="limit"/>, or all <paramref name="limit"/> of them when none is a NUL.
    /// False where the region ends (or nothing is readable) before either: then a fault is recorded when
    /// <paramref name="fault"/> is set (a helper's constant string) and none otherwise (the kernel's nofault string
    /// reads, which take such a string as empty: %s of the printf helpers).</summary>
    public bool TryReadString(ulong address, int limit, bool fault, out ReadOnlySpan<byte> text)
    {
        text = default;
        if (limit <= 0) return true;
        var before = _fault;
        ref byte p = ref Translate(address, 1, false);
        if (!Unsafe.IsNullRef(ref p))
        {
            ref MemoryRegion r = ref _regions[(int)(address >> 32)];
            var tail = MemoryMarshal.CreateReadOnlySpan(ref p, (int)Math.Min(r.Length - (address - r.Start), (ulong)limit));
            int end = tail.IndexOf((byte)0);
            if (end >= 0 || tail.Length == limit)
            {
                text = end >= 0 ? tail[..end] : tail;
                return true;
            }
            if (fault) _fault = BpfFault.OutOfBounds;
        }
        if (!fault) _fault = before;
        return false;
    }

    /// <summary>The map an <c>lddw src=1</c> handle names (or a handle <see cref="ExposeMap"/> gave), or null after
    /// recording a fault.</summary>
    public BpfMap? ResolveMap(ulong handle)
    {
        var maps = CurrentProgram.Maps;
        if (VirtualAddress.IsMapHandle(handle))
        {
            uint index = (uint)handle;
            if (index < (uint)maps.Count) return maps[(int)index];
            if (index - (uint)maps.Count < (uint)_runMapCount) return _runMaps[index - maps.Count];
        }
        _fault = BpfFault.HelperMisuse;
        return null;
    }

    private BpfMap[] _runMaps = new BpfMap[4];
    private int _runMapCount;

    /// <summary>A handle for <paramref name="map"/> (an inner map a map-of-maps lookup found), usable as any map
    /// argument for the rest of the run: the program's own index when the map is one of its maps, else a run-local one.</summary>
    public ulong ExposeMap(BpfMap map)
    {
        var maps = CurrentProgram.Maps;
        for (int i = 0; i < maps.Count; i++)
            if (ReferenceEquals(maps[i], map)) return VirtualAddress.MapHandleBase | (uint)i;
        for (int k = 0; k < _runMapCount; k++)
            if (ReferenceEquals(_runMaps[k], map)) return VirtualAddress.MapHandleBase | (uint)(maps.Count + k);
        if (_runMapCount == _runMaps.Length) Array.Resize(ref _runMaps, _runMaps.Length * 2);
        _runMaps[_runMapCount] = map;
        return VirtualAddress.MapHandleBase | (uint)(maps.Count + _runMapCount++);
    }

    /// <summary>Makes a map value addressable for the rest of the run and returns its address (0 when the
    /// run's region table is full, which the program sees as a failed lookup).</summary>
    public ulong ExposeMapValue(MapValue value, bool writable, BpfMap? map = null)
    {
        if (value.Count == 0 || _regionCount >= MaxRegions) return 0;
        return AddDynamicRegion(value.Array, value.Origin, value.Count, writable, RegionKind.MapValue, map);
    }

    /// <summary>Makes a reserved ring-buffer record addressable; <see cref="TryTakeRingBufRecord"/> finds it again.</summary>
    public ulong ExposeRingBufRecord(ArraySegment<byte> record, IBpfRingBuffer ring)
    {
        if (record.Array is null || _regionCount >= MaxRegions) return 0;
        return AddDynamicRegion(record.Array, record.Offset, record.Count, true, RegionKind.RingBufRecord, ring, record.Offset);
    }

    /// <summary>Finds the reservation whose record starts at <paramref name="address"/> and makes it
    /// inaccessible (submit/discard end its life); false after recording a fault otherwise.</summary>
    public bool TryTakeRingBufRecord(ulong address, out IBpfRingBuffer ring, out int sampleOffset)
    {
        ulong id = address >> 32;
        if (id >= (ulong)_firstDynamicRegion && id < (ulong)_regionCount)
        {
            ref var region = ref _regions[(int)id];
            if (region.Kind == RegionKind.RingBufRecord && region.Start == address && region.Owner is IBpfRingBuffer owner)
            {
                ring = owner;
                sampleOffset = (int)region.Token;
                region = new MemoryRegion { Kind = RegionKind.Empty };
                MirrorRegion((int)id);
                return true;
            }
        }
        ring = null!;
        sampleOffset = 0;
        _fault = BpfFault.HelperMisuse;
        return false;
    }

    /// <summary>Call after a helper moved or resized the packet: remaps data..data_end and refreshes the
    /// shadow ctx. Pointers into the packet the program still holds are checked against the new bounds.</summary>
    public void PacketChanged()
    {
        if (_hasPacket) MapPacket();
    }

    /// <summary>Records the target of <c>bpf_redirect</c> for the caller.</summary>
    public void SetRedirect(uint ifindex, ulong flags)
    {
        _jit->RedirectIfindex = ifindex;
        _jit->RedirectFlags = flags;
    }

    /// <summary>Records the explicit next hop of <c>bpf_redirect_neigh</c> (family Unspec: one the kernel would not
    /// know); read after the run from <see cref="RedirectNextHopFamily"/> and <see cref="RedirectNextHop"/>.</summary>
    public void SetRedirectNextHop(Routing.IpFamily family, ReadOnlySpan<byte> address)
    {
        RedirectNextHopFamily = family;
        RedirectNextHop = Routing.IpAddressBytes.From(address);
    }

    /// <summary>The family of the last run's bpf_redirect_neigh next hop (Unspec: none or not one the kernel knows).</summary>
    public Routing.IpFamily RedirectNextHopFamily { get; private set; }

    /// <summary>The last run's bpf_redirect_neigh next hop (4 or 16 bytes of it, by <see cref="RedirectNextHopFamily"/>).</summary>
    public Routing.IpAddressBytes RedirectNextHop { get; private set; }

    /// <summary>Asks the VM to continue in <paramref name="target"/> after the helper returns TailCall.</summary>
    public void RequestTailCall(LoadedProgram target) => _pendingTailCall = target;

    /// <summary>Stops the run with <paramref name="fault"/>; the helper then returns <see cref="HelperOutcome.Fault"/>.</summary>
    public HelperOutcome Fail(BpfFault fault)
    {
        _fault = fault;
        return HelperOutcome.Fault;
    }

    /// <summary>The run's fault so far (helpers use it after a failed memory access).</summary>
    public HelperOutcome Faulted() => HelperOutcome.Fault;

    /// <summary>xorshift64* — a fast per-VM generator for <c>bpf_get_prandom_u32</c>.</summary>
    public uint NextRandom()
    {
        ulong x = _random;
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        _random = x;
        return (uint)((x * 0x2545F4914F6CDD1DUL) >> 32);
    }

    /// <summary>Sends one trace line, "program: text" without the text's trailing newlines, to the configured sink if
    /// the rate limit allows (the only place the line becomes a string).</summary>
    public void Trace(ReadOnlySpan<byte> text)
    {
        if (Options.TraceSink is { } sink && TraceLimiter.TryTake())
            sink($"{CurrentProgram.Name}: {System.Text.Encoding.UTF8.GetString(text.TrimEnd((byte)'\n'))}");
    }

    /// <summary>Most regions a single run may create (map lookups and ring-buffer reservations).</summary>
    public const int MaxRegions = 65536;
}
