using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>A UMEM: one page-aligned mmapped area of equal frames (chunks), a free stack of frame addresses
/// (no allocation), and a frame ledger that records where every frame is (<see cref="FrameState"/>) and which
/// port holds it, so tests can prove nothing leaked. Single-threaded: only the forwarding worker (or the setup
/// code before it starts) touches it.</summary>
public sealed unsafe class Umem : IDisposable
{
    public const int MaxOwners = 64;

    private MmapRegion? _area;
    private ulong* _freeStack;
    private uint _freeCount;
    private byte* _state;
    private byte* _owner;
    private readonly int _frameShift;
    private long _violations;
    private string? _firstViolation;

    public string Name { get; }
    public byte* Base { get; }
    public uint FrameSize { get; }
    public uint FrameCount { get; }
    /// <summary>User headroom registered with the kernel (in front of the kernel's 256-byte XDP headroom).</summary>
    public uint Headroom { get; }
    public ulong Length => (ulong)FrameCount * FrameSize;
    public uint FreeCount => _freeCount;

    /// <summary>When true, every move checks the frame's previous state and counts violations.</summary>
    public bool CheckTransitions { get; set; }

    public Umem(string name, uint frameCount, uint frameSize, uint headroom)
    {
        if (frameSize is not (2048 or 4096))
            throw new ArgumentOutOfRangeException(nameof(frameSize), frameSize, "UMEM frame size must be 2048 or 4096 bytes");
        if (frameCount == 0 || frameCount > (1u << 24))
            throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "UMEM frame count must be 1..16M");
        if (headroom + XskConstants.PacketHeadroom + 64 > frameSize)
            throw new ArgumentOutOfRangeException(nameof(headroom), headroom, "headroom leaves no room for a frame");
        Name = name;
        FrameSize = frameSize;
        FrameCount = frameCount;
        Headroom = headroom;
        _frameShift = BitOperations.Log2(frameSize);
        _area = MmapRegion.Anonymous((nuint)Length, $"UMEM {name}");
        Base = _area.Pointer;
        _freeStack = (ulong*)NativeMemory.Alloc(frameCount, sizeof(ulong));
        _state = (byte*)NativeMemory.AllocZeroed(frameCount);
        _owner = (byte*)NativeMemory.AllocZeroed(frameCount);
        for (uint i = 0; i < frameCount; i++) _freeStack[i] = (ulong)(frameCount - 1 - i) << _frameShift;
        _freeCount = frameCount;
    }

    /// <summary>Largest frame that fits in one chunk after both headrooms.</summary>
    public uint MaxFrameLength => FrameSize - Headroom - XskConstants.PacketHeadroom;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ChunkStart(ulong addr) => addr & ~(ulong)(FrameSize - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FrameIndex(ulong addr) => (uint)(addr >> _frameShift);

    /// <summary>Pops a free frame (chunk-aligned address) and records it as <paramref name="to"/> held by <paramref name="owner"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAllocate(FrameState to, int owner, out ulong addr)
    {
        if (_freeCount == 0) { addr = 0; return false; }
        addr = *TakeFree(1, to, owner);
        return true;
    }

    /// <summary>Pops <paramref name="count"/> free frames (at most <see cref="FreeCount"/>) at once and records them as
    /// <paramref name="to"/> held by <paramref name="owner"/>: the address of the first, the others after it (valid
    /// until the next <see cref="Free"/>). One pass over the ledger, then the caller's pass over the addresses: the
    /// FILL ring is written in a loop of its own rather than between ledger writes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong* TakeFree(uint count, FrameState to, int owner)
    {
        if (count > _freeCount) count = _freeCount;
        _freeCount -= count;
        ulong* block = _freeStack + _freeCount;
        for (uint k = 0; k < count; k++) Move(block[k], FrameState.Free, to, owner);
        return block;
    }

    /// <summary>Returns a frame (any address inside it) to the free stack.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(ulong addr, FrameState from)
    {
        ulong chunk = ChunkStart(addr);
        Move(chunk, from, FrameState.Free, 0);
        _freeStack[_freeCount++] = chunk;
    }

    /// <summary>Records that the frame containing <paramref name="addr"/> moved from <paramref name="from"/> to <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Move(ulong addr, FrameState from, FrameState to, int owner)
    {
        uint i = FrameIndex(addr);
        if (i >= FrameCount || CheckTransitions)
        {
            MoveChecked(addr, from, to, owner);
            return;
        }
        _state[i] = (byte)to;
        _owner[i] = (byte)owner;
    }

    /// <summary><see cref="Move"/> when the address is outside the UMEM or transitions are checked (tests): out of
    /// the per-frame path, so that the path holds no call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MoveChecked(ulong addr, FrameState from, FrameState to, int owner)
    {
        uint i = FrameIndex(addr);
        if (i >= FrameCount || _state[i] != (byte)from)
        {
            RecordViolation(addr, from, to);
            if (i >= FrameCount) return;
        }
        _state[i] = (byte)to;
        _owner[i] = (byte)owner;
    }

    /// <summary>The first byte of the chunk holding <paramref name="addr"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Pointer(ulong addr) => Base + addr;

    /// <summary>Frees every frame that <paramref name="owner"/> holds in <paramref name="state"/> (a port whose
    /// interface vanished: the kernel will never return its FILL or TX frames). Returns how many.</summary>
    public int Reclaim(int owner, FrameState state)
    {
        int n = 0;
        for (uint i = 0; i < FrameCount; i++)
        {
            if (_state[i] != (byte)state || _owner[i] != owner) continue;
            Free((ulong)i << _frameShift, state);
            n++;
        }
        return n;
    }

    /// <summary>Counts frames by state and owner and checks the free stack against the ledger.</summary>
    public FrameCensus AccountFrames()
    {
        var byOwner = new int[MaxOwners, 4];
        int free = 0;
        for (uint i = 0; i < FrameCount; i++)
        {
            if (_state[i] == (byte)FrameState.Free) free++;
            else byOwner[_owner[i], _state[i]]++;
        }
        byOwner[0, (int)FrameState.Free] = free;
        var seen = new bool[FrameCount];
        int problems = 0;
        for (uint k = 0; k < _freeCount; k++)
        {
            ulong a = _freeStack[k];
            uint i = FrameIndex(a);
            if (i >= FrameCount || a != ChunkStart(a) || seen[i] || _state[i] != (byte)FrameState.Free) { problems++; continue; }
            seen[i] = true;
        }
        return new FrameCensus
        {
            Total = (int)FrameCount, Free = free, FreeStackDepth = (int)_freeCount, FreeStackProblems = problems,
            ByOwner = byOwner, TransitionViolations = Interlocked.Read(ref _violations), FirstViolation = _firstViolation,
        };
    }

    private void RecordViolation(ulong addr, FrameState from, FrameState to)
    {
        uint i = FrameIndex(addr);
        string actual = i < FrameCount ? ((FrameState)_state[i]).ToString() : "outside the UMEM";
        _firstViolation ??= $"UMEM {Name}: frame at 0x{addr:x} moved {from}->{to} but was {actual}";
        Interlocked.Increment(ref _violations);
    }

    public void Dispose()
    {
        _area?.Dispose();
        _area = null;
        if (_freeStack != null) { NativeMemory.Free(_freeStack); _freeStack = null; }
        if (_state != null) { NativeMemory.Free(_state); _state = null; }
        if (_owner != null) { NativeMemory.Free(_owner); _owner = null; }
    }
}
