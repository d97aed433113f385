namespace Appliance.Bpf.Verifier;

/// <summary>What a program's ELF section says about its program type, read as libbpf reads section names
/// (<c>SEC("xdp")</c>, <c>SEC("kprobe/…")</c> …; plus samples/bpf's older loader, for which any section starting
/// with "xdp" is XDP; a leading '?', libbpf's mark for a program not loaded unless asked, is skipped). The engine runs tc programs — r1 a <c>struct __sk_buff</c>, TC_ACT_* verdicts — so a
/// section naming another type is refused at load: run as tc, an XDP program would read <c>xdp_md.data</c>
/// (offset 0) as <c>__sk_buff.len</c> and its XDP_PASS (2) would mean TC_ACT_SHOT. Every other name (tc, classifier,
/// action, tcx/…, netkit/…, and the free names iproute2's tc loader takes) is a tc program.</summary>
internal static class ProgramSections
{
    private static readonly (string Prefix, string Type)[] OtherTypes =
    [
        ("socket", "a socket filter"), ("sk_reuseport", "an SK_REUSEPORT program"), ("sk_skb", "an SK_SKB program"),
        ("sk_msg", "an SK_MSG program"), ("sk_lookup", "an SK_LOOKUP program"), ("sockops", "a SOCK_OPS program"),
        ("kprobe", "a kprobe"), ("kretprobe", "a kprobe"), ("uprobe", "a uprobe"), ("uretprobe", "a uprobe"),
        ("ksyscall", "a kprobe"), ("kretsyscall", "a kprobe"), ("usdt", "a USDT probe"),
        ("tracepoint", "a tracepoint program"), ("tp", "a tracepoint program"), ("raw_tracepoint", "a raw tracepoint program"),
        ("raw_tp", "a raw tracepoint program"), ("tp_btf", "a BTF tracing program"), ("fentry", "a tracing program (fentry)"),
        ("fexit", "a tracing program (fexit)"), ("fmod_ret", "a tracing program (fmod_ret)"), ("freplace", "an extension program (freplace)"),
        ("lsm", "an LSM program"), ("iter", "an iterator"), ("syscall", "a syscall program"), ("struct_ops", "a struct_ops program"),
        ("perf_event", "a perf event program"), ("lwt_in", "an LWT program"), ("lwt_out", "an LWT program"),
        ("lwt_xmit", "an LWT program"), ("lwt_seg6local", "an LWT program"), ("lirc_mode2", "a LIRC program"),
        ("flow_dissector", "a flow dissector"), ("cgroup", "a cgroup program"), ("cgroup_skb", "a cgroup program"),
        ("netfilter", "a netfilter program"),
    ];

    /// <summary>The program type <paramref name="section"/> names when it is not tc ("an XDP program (context
    /// struct xdp_md, XDP_* verdicts)"), else null.</summary>
    public static string? OtherProgramType(string section)
    {
        if (section.StartsWith('?')) section = section[1..]; // libbpf's "not loaded unless asked" mark: SEC("?xdp")
        if (section.StartsWith("xdp", StringComparison.Ordinal))
            return "an XDP program (context struct xdp_md, XDP_* verdicts)";
        foreach (var (prefix, type) in OtherTypes)
            if (section.StartsWith(prefix, StringComparison.Ordinal)
                && (section.Length == prefix.Length || section[prefix.Length] is '/' or '.' or '+'))
                return type;
        return null;
    }
}
