namespace Appliance.Config.Tests;

/// <summary>A valid config that the tests vary one edit at a time, and position helpers for asserting errors.</summary>
internal static class ConfigTexts
{
    public const string FileName = "config.json";

    public const string Valid = """
        {
          "board": "qemu-virt",
          "ports": [
            { "name": "eth0", "unclaimed": "kernel" },
            { "name": "eth1", "unclaimed": "drop", "mtu": 1500 }
          ],
          "pairs": [
            {
              "name": "tenant-a",
              "mode": "l2",
              "uplink": "eth0",
              "tenant": { "netns": "ns-a", "interface": "eth0", "mac": "02:00:00:00:0a:02", "addresses": ["10.0.1.2/24"] },
              "headroom": 64,
              "primary": { "policy": "pass", "chain": [{ "program": "count" }] },
              "peer": { "policy": "drop", "scrub": "none", "chain": [{ "program": "allow" }] }
            },
            {
              "name": "tenant-b",
              "mode": "l3",
              "uplink": "eth1",
              "tenant": { "netns": "ns-b", "interface": "eth0", "mac": "02:00:00:00:0b:02", "addresses": ["10.0.2.2/32"] }
            }
          ],
          "programs": [
            { "name": "allow", "object": "allow_port.bpf.o", "section": "netkit/peer", "maps": { "allowed_ports": [{ "key": 22, "value": 0 }] } },
            { "name": "count", "object": "counter.bpf.o", "section": "tc" }
          ],
          "leds": {
            "state": "on",
            "lines": [
              { "name": "status", "chip": "9030000.pl061", "line": 0, "trigger": "status" },
              { "name": "link", "chip": "9030000.pl061", "line": 1, "activeLow": true, "trigger": "link:eth0" }
            ]
          }
        }
        """;

    /// <summary><see cref="Valid"/> with the one occurrence of <paramref name="from"/> replaced.</summary>
    public static string With(string from, string to) => Replace(Valid, from, to);

    public static string Replace(string text, string from, string to)
    {
        int at = text.IndexOf(from, StringComparison.Ordinal);
        if (at < 0 || text.IndexOf(from, at + 1, StringComparison.Ordinal) >= 0)
            throw new ArgumentException($"\"{from}\" must occur exactly once in the config text");
        return text[..at] + to + text[(at + from.Length)..];
    }

    /// <summary>1-based line and column of the only occurrence of <paramref name="marker"/>, plus <paramref name="skip"/> characters.</summary>
    public static (int Line, int Column) At(string text, string marker, int skip = 0)
    {
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || text.IndexOf(marker, at + 1, StringComparison.Ordinal) >= 0)
            throw new ArgumentException($"marker \"{marker}\" must occur exactly once in the config text");
        at += skip;
        int lineStart = text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        if (at == 0) lineStart = 0;
        int line = text[..at].Count(c => c == '\n') + 1;
        return (line, at - lineStart + 1);
    }

    /// <summary>Position of <paramref name="focus"/> inside the only occurrence of <paramref name="marker"/>.</summary>
    public static (int Line, int Column) At(string text, string marker, string focus) =>
        At(text, marker, marker.IndexOf(focus, StringComparison.Ordinal) is >= 0 and var skip ? skip : throw new ArgumentException($"\"{focus}\" is not in \"{marker}\""));

    public static ConfigLoadResult Load(string text) => LoadText(text, FileName);

    public static ConfigLoadResult Load(string text, IProgramObjectInspector inspector) =>
        LoadText(text, FileName, new ConfigLoadOptions { ProgramObjects = inspector });

    /// <summary>Loads <paramref name="text"/> as the loader reads a file's bytes (<see cref="ConfigLoader.LoadBytes"/>);
    /// <paramref name="fileName"/> names it in errors and its folder anchors object paths.</summary>
    public static ConfigLoadResult LoadText(string text, string fileName, ConfigLoadOptions? options = null) =>
        ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes(text), fileName, Path.GetDirectoryName(Path.GetFullPath(fileName)) ?? ".", options);
}
