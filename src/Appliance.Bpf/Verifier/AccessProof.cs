namespace Appliance.Bpf.Verifier;

/// <summary>What <see cref="PointerAnalysis"/> proved about one load, store or atomic: the region the access stays
/// inside on every path, so compiled code translates its address without a run-time bounds check.</summary>
internal enum AccessProof : byte
{
    /// <summary>Nothing proven: the access keeps the run-time check (and its fault).</summary>
    None,

    /// <summary>Inside the current function's frame [r10 - frame bytes, r10): region 1.</summary>
    Stack,

    /// <summary>Inside data..data_end of the current packet: region 0.</summary>
    Packet,

    /// <summary>Inside a map value (a global's or a bpf_map_lookup_elem result's), writable when it is a store:
    /// the region the address's upper half names.</summary>
    Region,
}
