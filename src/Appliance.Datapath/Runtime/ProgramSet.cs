using Appliance.Bpf;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;
using Appliance.Config;
using Appliance.Datapath.Pairs;

namespace Appliance.Datapath.Runtime;

/// <summary>The config's programs, loaded before anything touches the network: each object file is read once
/// (<see cref="BpfObjectLoader"/>), its maps are created and filled with the config's initial contents, and every
/// configured section is verified and decoded. All of an object's programs become tail-call targets of each other,
/// in object order. Errors name the program, the file and what to do.</summary>
public sealed class ProgramSet
{
    private readonly Dictionary<string, RuntimeProgram> _byName = new(StringComparer.Ordinal);
    private readonly List<RuntimeObject> _objects = [];

    public IReadOnlyCollection<RuntimeProgram> Programs => _byName.Values;
    public IReadOnlyList<RuntimeObject> Objects => _objects;

    public RuntimeProgram this[string name] => _byName.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"no program called '{name}' is loaded (the config's programs are: {string.Join(", ", _byName.Keys)})");

    public bool TryGet(string name, out RuntimeProgram program) => _byName.TryGetValue(name, out program!);

    /// <summary>Attaches both sides' configured programs in order, one bpf_mprog append each: an empty chain stays at
    /// revision 1, N programs give revision 1 + N, as attaching them one by one to a netkit device would.</summary>
    public void BuildChains(PairRuntime pair)
    {
        foreach (var (side, config, name) in new[] { (pair.Primary, pair.Config.Primary, "primary"), (pair.Peer, pair.Config.Peer, "peer") })
            foreach (var entry in config.Chain)
            {
                if (!TryGet(entry.Program, out var p))
                    throw new RuntimeSetupException($"pair '{pair.Name}' {name} chain: no program called '{entry.Program}'");
                side.Chain.Attach(p, ChainPosition.Append);
            }
    }

    /// <param name="configDirectory">Object paths are relative to it.</param>
    /// <param name="objectDirectory">When set, objects are looked up by file name there instead (e.g. out/programs).</param>
    public static ProgramSet Load(IReadOnlyList<ProgramConfig> programs, string configDirectory, string? objectDirectory = null,
        BpfHelperTable? helpers = null)
    {
        helpers ??= LinuxHelperTable.Instance;
        var set = new ProgramSet();
        var objects = new Dictionary<string, (RuntimeObject Object, LoadedProgram?[] Loaded)>(StringComparer.Ordinal);
        foreach (var pc in programs)
        {
            string path = ProgramObjectPaths.Resolve(pc, configDirectory, objectDirectory);
            if (!objects.TryGetValue(path, out var entry))
            {
                entry = LoadObject(pc, path);
                objects[path] = entry;
                set._objects.Add(entry.Object);
            }
            FillMaps(pc, entry.Object);
            var elf = entry.Object.Elf;
            int index = -1;
            for (int i = 0; i < elf.Programs.Count; i++)
                if (elf.Programs[i].Section == pc.Section) { index = i; break; }
            if (index < 0)
                throw new RuntimeSetupException($"program '{pc.Name}': {path} has no section \"{pc.Section}\" " +
                    $"(its program sections: {string.Join(", ", elf.Programs.Select(p => p.Section))})");
            entry.Loaded[index] ??= Verify(pc, path, elf.Programs[index], entry.Object, helpers);
            set._byName[pc.Name] = new RuntimeProgram(pc, entry.Loaded[index]!, entry.Object);
        }
        foreach (var (_, loaded) in objects.Values)
        {
            IReadOnlyList<LoadedProgram?> targets = loaded;
            foreach (var p in loaded) if (p is not null) p.TailCallTargets = targets;
        }
        return set;
    }

    private static (RuntimeObject, LoadedProgram?[]) LoadObject(ProgramConfig pc, string path)
    {
        BpfObject elf;
        try
        {
            elf = BpfObjectLoader.Load(path);
        }
        catch (Exception e) when (e is BpfLoadException or IOException or UnauthorizedAccessException)
        {
            throw new RuntimeSetupException($"program '{pc.Name}': cannot load {path}: {e.Message}", e);
        }
        var maps = new List<BpfMap>(elf.Maps.Count);
        foreach (var def in elf.Maps)
        {
            try { maps.Add(BpfMap.Create(def, Environment.ProcessorCount)); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
                throw new RuntimeSetupException($"program '{pc.Name}': map '{def.Name}' of {path}: {e.Message}", e);
            }
        }
        return (new RuntimeObject(path, elf, maps), new LoadedProgram?[elf.Programs.Count]);
    }

    private static LoadedProgram Verify(ProgramConfig pc, string path, BpfProgramImage image, RuntimeObject obj, BpfHelperTable helpers)
    {
        try
        {
            return LoadedProgram.Load(image, obj.Maps, helpers);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new RuntimeSetupException($"program '{pc.Name}' ({path}, section \"{pc.Section}\") does not verify: {e.Message}", e);
        }
    }

    /// <summary>Writes the config's initial contents into the object's maps (keys and values in the map's sizes).</summary>
    private static void FillMaps(ProgramConfig pc, RuntimeObject obj)
    {
        foreach (var (mapName, entries) in pc.Maps)
        {
            var map = obj.FindMap(mapName) ?? throw new RuntimeSetupException(
                $"program '{pc.Name}': {obj.Path} declares no map '{mapName}' (its maps: {string.Join(", ", obj.Maps.Select(m => m.Name))})");
            for (int i = 0; i < entries.Count; i++)
            {
                var key = entries[i].Key.ToBytes(map.KeySize) ?? throw new RuntimeSetupException(
                    $"program '{pc.Name}': map '{mapName}' entry {i}: the key does not fit the map's {map.KeySize}-byte keys");
                var value = entries[i].Value.ToBytes(map.UserValueSize) ?? throw new RuntimeSetupException(
                    $"program '{pc.Name}': map '{mapName}' entry {i}: the value does not fit the map's {map.UserValueSize}-byte values");
                int rc = map.UpdateFromUser(key, value, 0);
                if (rc != 0)
                    throw new RuntimeSetupException($"program '{pc.Name}': map '{mapName}' entry {i}: update failed with {rc} (full, or a key out of range?)");
            }
        }
    }
}
