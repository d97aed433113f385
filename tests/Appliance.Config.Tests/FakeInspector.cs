namespace Appliance.Config.Tests;

/// <summary>An inspector that answers from a table keyed by object file name, recording what it was asked.</summary>
internal sealed class FakeInspector(Dictionary<string, ProgramObjectReport> reports) : IProgramObjectInspector
{
    public List<(string Path, string Section)> Calls { get; } = [];

    public ProgramObjectReport Inspect(string fullPath, string section)
    {
        Calls.Add((fullPath, section));
        return reports.TryGetValue(Path.GetFileName(fullPath), out var report) ? report : ProgramObjectReport.Fails($"no such object {fullPath}");
    }

    /// <summary>Sections and maps of programs/*.bpf.c as their sources declare them (key, value, max_entries).</summary>
    public static FakeInspector FromProgramSources() => new(new()
    {
        ["allow_port.bpf.o"] = new(null, ["netkit/peer"], new Dictionary<string, ProgramMapShape> { ["allowed_ports"] = new(2, 8, 256) }),
        ["lpm_acl.bpf.o"] = new(null, ["netkit/primary"], new Dictionary<string, ProgramMapShape> { ["acl_v4"] = new(8, 4, 1024), ["acl_hits"] = new(4, 8, 2) }),
        ["redirect_map.bpf.o"] = new(null, ["tc"], new Dictionary<string, ProgramMapShape> { ["routes"] = new(4, 4, 4096) }),
        ["counter.bpf.o"] = new(null, ["tc"], null),
        ["rewrite.bpf.o"] = new(null, ["tc"], null),
        ["vlan_tag.bpf.o"] = new(null, ["tc", "netkit/primary"], new Dictionary<string, ProgramMapShape> { [".rodata"] = new(4, 2, 1) }),
    });
}
