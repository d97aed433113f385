namespace Appliance.Bpf.Maps;

/// <summary>The flags of bpf_map_update_elem (include/uapi/linux/bpf.h).</summary>
public static class BpfUpdateFlags
{
    /// <summary>Create or update.</summary>
    public const ulong Any = 0;
    /// <summary>Create only: -EEXIST when the key exists.</summary>
    public const ulong NoExist = 1;
    /// <summary>Update only: -ENOENT when the key is absent.</summary>
    public const ulong Exist = 2;
    /// <summary>BPF_F_LOCK: copy the value under its bpf_spin_lock (-EINVAL for a value without one).</summary>
    public const ulong Lock = 4;
}
