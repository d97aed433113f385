using System.Text;
using System.Text.Json;
using Appliance.Bpf.Maps;
using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;
using Appliance.Host.Commands;

namespace Appliance.Host.Control;

/// <summary>`maps` on the control socket: list the maps, dump one, update or delete an element while the
/// appliance runs. A map is named MAP when only one object declares it, else PROGRAM/MAP (any program of its
/// object). Keys and values are hex bytes in memory order ("0a000001") or integers (stored little-endian in the
/// map's size), as in the config.</summary>
public sealed class MapEditor(ProgramSet programs)
{
    public const string Usage = "maps [list] | maps dump MAP | maps update MAP KEY VALUE | maps delete MAP KEY";

    /// <summary>On the programs running now, between reloads (<see cref="ApplianceRuntime.BetweenReloads"/>): no map
    /// this reads or writes is given back until it is done. (Not a program run's grace-period section: an LPM trie's
    /// update from user space may wait for a grace period itself.)</summary>
    public static string RunOnRunning(ApplianceRuntime runtime, IReadOnlyList<string> args, bool json) =>
        runtime.BetweenReloads(() => new MapEditor(runtime.Programs).Run(args, json));

    public string Run(IReadOnlyList<string> args, bool json)
    {
        var p = ControlArguments.Parse(ControlVerbs.Maps, args).Positionals;
        string op = p.Count == 0 ? "list" : p[0];
        switch (op)
        {
            case "list" when p.Count <= 1: return List();
            case "dump" when p.Count == 2: return Dump(Find(p[1]), json);
            case "update" when p.Count == 4:
                {
                    var map = Writable(Find(p[1]));
                    int rc = map.UpdateFromUser(Parse(p[2], map.KeySize, "key"), Parse(p[3], map.UserValueSize, "value"), 0);
                    if (rc != 0) throw new InvalidOperationException($"update of map '{map.Name}' failed with {rc} (map full, or an index out of range?)");
                    return $"updated {map.Name}[{p[2]}]";
                }
            case "delete" when p.Count == 3:
                {
                    var map = Writable(Find(p[1]));
                    int rc = map.Delete(Parse(p[2], map.KeySize, "key"));
                    if (rc != 0) throw new InvalidOperationException($"delete from map '{map.Name}' failed with {rc} (no such key; arrays cannot delete)");
                    return $"deleted {map.Name}[{p[2]}]";
                }
            default:
                throw new ArgumentException("usage: " + Usage);
        }
    }

    private string List()
    {
        var t = new TextTable("MAP", "TYPE", "KEY", "VALUE", "MAX", "OBJECT", "PROGRAMS");
        foreach (var o in programs.Objects)
        {
            var users = string.Join(",", programs.Programs.Where(p => p.Object == o).Select(p => p.Name));
            foreach (var m in o.Maps) t.Row(m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, Path.GetFileName(o.Path), users);
        }
        return t.ToString();
    }

    private BpfMap Find(string name)
    {
        int slash = name.IndexOf('/');
        if (slash > 0)
        {
            if (!programs.TryGet(name[..slash], out var p)) throw new ArgumentException($"no program called '{name[..slash]}'");
            return p.Object.FindMap(name[(slash + 1)..]) ?? throw new ArgumentException($"{p.Object.Path} has no map '{name[(slash + 1)..]}'");
        }
        var found = programs.Objects.Select(o => o.FindMap(name)).OfType<BpfMap>().ToArray();
        return found.Length switch
        {
            1 => found[0],
            0 => throw new ArgumentException($"no map called {PrintableText.Quote(name)} (see `maps list`)"),
            _ => throw new ArgumentException($"{found.Length} objects declare a map {PrintableText.Quote(name)}; name it PROGRAM/{name}"),
        };
    }

    /// <summary>A read-only map (.rodata, .kconfig) is frozen once loaded, as libbpf freezes it and the kernel then refuses
    /// user updates with EPERM: its programs were verified against its contents. (BPF_F_RDONLY and BPF_F_WRONLY bind
    /// only the fd that created a map in the kernel, not the map: bpftool updates and dumps it by id, and so does this.)</summary>
    private static BpfMap Writable(BpfMap map) => map.Definition.Frozen
        ? throw new InvalidOperationException(map.Definition.FromKernel
            ? $"map '{map.Name}' is read-only (frozen once loaded, EPERM): it holds the running kernel's values of the object's __kconfig externs"
            : $"map '{map.Name}' is read-only (frozen once loaded, EPERM); change its contents in the config: a reload loads the program afresh")
        : map;

    private static byte[] Parse(string text, int size, string what)
    {
        MapDatum d;
        if (!MapDatum.TryParseInteger(text, out d) && !MapDatum.TryParseHex(text, out d, out var problem))
            throw new ArgumentException($"{what} {PrintableText.Quote(text)}: {problem}");
        return d.ToBytes(size) ?? throw new ArgumentException($"{what} {PrintableText.Quote(text)} does not fit the map's {size}-byte {what}s");
    }

    private static string Dump(BpfMap map, bool json)
    {
        var entries = new List<(byte[] Key, byte[] Value)>();
        var key = new byte[map.KeySize];
        var next = new byte[map.KeySize];
        bool first = true;
        for (int guard = 0; guard < map.MaxEntries + 1; guard++)
        {
            if (!map.TryGetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next)) break;
            first = false;
            next.CopyTo(key, 0);
            var value = new byte[map.UserValueSize];
            if (map.TryLookupFromUser(key, value)) entries.Add(((byte[])key.Clone(), value));
        }
        if (json)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("map", map.Name);
                w.WriteStartArray("entries");
                foreach (var (k, v) in entries)
                {
                    w.WriteStartObject();
                    w.WriteString("key", Convert.ToHexString(k).ToLowerInvariant());
                    w.WriteString("value", Convert.ToHexString(v).ToLowerInvariant());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }
        var sb = new StringBuilder($"{map.Name} ({map.Type}, {entries.Count} entries)\n");
        foreach (var (k, v) in entries) sb.Append($"  {Convert.ToHexString(k).ToLowerInvariant()} => {Convert.ToHexString(v).ToLowerInvariant()}\n");
        return sb.ToString();
    }
}
