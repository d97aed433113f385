namespace Appliance.Bpf.Vm;

/// <summary>The program's address space. A virtual address is <c>(region id &lt;&lt; 32) | (0x1000_0000 + offset)</c>,
/// so the upper half selects a region in the run's region table and the lower half the byte in it. Region 0
/// is the packet (or the conformance memory buffer): its addresses are below 4 GiB, which is what makes
/// clang's 32-bit loads of <c>__sk_buff.data</c>/<c>data_end</c> return usable pointers (design for the
/// hazard of ebpf.md §5: option (c), a virtual address space with the packet in a 32-bit window). NULL and
/// small integers fall below every region's start and fault. Map pointers from <c>lddw src=1</c> are opaque
/// handles (<see cref="MapHandleBase"/> | index) that no region contains.</summary>
public static class VirtualAddress
{
    public const ulong WindowBase = 0x1000_0000;
    public const int PacketRegion = 0, StackRegion = 1, ContextRegion = 2, FirstProgramRegion = 3;
    public const ulong MapHandleBase = 0xFFFF_0000_0000_0000UL;

    /// <summary>What <c>lddw src=4</c> (a callback's address) loads: this | the callback's instruction index.
    /// Like a map handle, no region contains it.</summary>
    public const ulong FunctionBase = 0xFFFE_0000_0000_0000UL;

    /// <summary>The instruction index a callback address names, or -1 when <paramref name="address"/> is not one.</summary>
    public static int FunctionIndex(ulong address) =>
        (address & 0xFFFF_FFFF_0000_0000UL) == FunctionBase && (uint)address <= int.MaxValue ? (int)(uint)address : -1;

    public static ulong RegionBase(int regionId) => ((ulong)(uint)regionId << 32) | WindowBase;

    public static bool IsMapHandle(ulong address) => (address & 0xFFFF_FFFF_0000_0000UL) == MapHandleBase;
}
