using Appliance.TestSupport;

namespace Appliance.Host.Tests.Run;

/// <summary>A namespaced board for the published binary: port veth (board end here, o0 in an outside namespace with
/// 10.60.0.1/24), one tenant namespace name (the appliance creates it), a config file in a temp folder with the
/// example programs built next to it. Deletes everything on Dispose, also after a failure.</summary>
public sealed class RunBoard : IDisposable
{
    public const string OutsideAddress = "10.60.0.1", TenantAddress = "10.60.0.10", Tenant2Address = "10.60.0.11";

    public NetNamespace Outside { get; }
    public string Port { get; }
    public string Pair { get; }
    public string TenantNs { get; }
    /// <summary>A second pair and its tenant namespace, for configs written with <see cref="WriteConfigText"/>.</summary>
    public string Pair2 { get; }
    public string TenantNs2 { get; }
    public string Folder { get; }
    public string Socket => Path.Combine(Folder, "control.sock");
    public string ConfigFile => Path.Combine(Folder, "config.json");

    public RunBoard()
    {
        Outside = new NetNamespace("rout");
        Folder = Path.Combine(Path.GetTempPath(), $"mapp-run-{Guid.NewGuid():N}");
        Port = NetNamespace.UniqueInterface("mapp");
        Pair = NetNamespace.UniqueInterface("mrp");
        TenantNs = NetNamespace.UniqueName("rten");
        Pair2 = NetNamespace.UniqueInterface("mrq");
        TenantNs2 = NetNamespace.UniqueName("rtn2");
        try
        {
            Directory.CreateDirectory(Folder);
            Shell.Check("ip", "link", "add", Port, "type", "veth", "peer", "name", "o0", "netns", Outside.Name);
            Shell.Check("ip", "link", "set", Port, "up");
            Outside.Exec("ip", "link", "set", "o0", "up");
            Outside.Exec("ethtool", "-K", "o0", "tx", "off");
            Outside.Exec("ip", "addr", "add", OutsideAddress + "/24", "dev", "o0");
            string multiarch = Shell.Check("gcc", "-dumpmachine").Trim();
            foreach (var name in new[] { "counter", "allow_port", "vlan_tag" })
                Shell.Check("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(RepoPaths.Root, "programs/include"),
                    "-I", $"/usr/include/{multiarch}", "-c", Path.Combine(RepoPaths.Root, $"programs/{name}.bpf.c"), "-o", Path.Combine(Folder, $"{name}.bpf.o"));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Writes the config: one L2 pair on the port, its peer side with <paramref name="peerPolicy"/> and no
    /// programs; programs "count" (counter: observes, NEXT) and "allow" (allow_port) loaded for later attaching.</summary>
    /// <remarks><paramref name="ledLines"/>: JSON objects for the config's <c>leds.lines</c> (none by default).</remarks>
    public void WriteConfig(string peerPolicy, string? ledLines = null, bool? jit = null) => File.WriteAllText(ConfigFile, $$"""
        {
          "board": "test",{{(jit is { } j ? $"\n  \"jit\": {(j ? "true" : "false")}," : "")}}
          "controlSocket": "{{Socket}}",
          "ports": [{ "name": "{{Port}}", "unclaimed": "kernel" }],
          "pairs": [{
            "name": "{{Pair}}", "mode": "l2", "uplink": "{{Port}}",
            "tenant": { "netns": "{{TenantNs}}", "interface": "eth0", "mac": "02:00:00:00:0c:01", "addresses": ["{{TenantAddress}}/24"] },
            "peer": { "policy": "{{peerPolicy}}" }
          }],
          "leds": { "state": "on", "lines": [{{ledLines ?? ""}}] },
          "programs": [
            { "name": "count", "object": "counter.bpf.o", "section": "tc" },
            { "name": "allow", "object": "allow_port.bpf.o", "section": "netkit/peer" }
          ]
        }
        """);

    /// <summary>Writes <paramref name="json"/> as the config file.</summary>
    public void WriteConfigText(string json) => File.WriteAllText(ConfigFile, json);

    public Shell.Result Cli(params string[] args) => Shell.RunWithTimeout(TimeSpan.FromSeconds(30), RepoPaths.Binary("linux-x64"), [.. args, "--socket", Socket]);

    public bool TenantPings() =>
        Shell.RunWithTimeout(TimeSpan.FromSeconds(20), "ip", "netns", "exec", TenantNs, "ping", "-c", "2", "-i", "0.2", "-W", "1", OutsideAddress).ExitCode == 0;

    public static bool LinkExists(string name) => Shell.Run("ip", "link", "show", name).ExitCode == 0;
    public bool TenantNamespaceExists => File.Exists($"/var/run/netns/{TenantNs}");

    public void Dispose()
    {
        Shell.Run("ip", "link", "del", Pair);
        Shell.Run("ip", "link", "del", Port);
        Shell.Run("ip", "netns", "del", TenantNs);
        Shell.Run("ip", "link", "del", Pair2);
        Shell.Run("ip", "netns", "del", TenantNs2);
        Outside.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
