using System.IO.Hashing;
using Appliance.Bpf;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;
using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Programs;

/// <summary>The config's programs, loaded before anything touches the network: each object file is read once
/// (<see cref="BpfObjectLoader"/>), its maps are created and filled with the config's initial contents, and every
/// configured section is verified and decoded. All of an object's programs become tail-call targets of each other,
/// in object order. Errors name the program, the file and what to do.
/// <para>For a reload (<c>running</c> given), an object whose bytes are the same as the running one's is kept as it
/// is (its maps live on, a program of the same name and section is the same program); a changed object is loaded
/// and verified anew, and each of its maps is the running map of the same name when type, key size, value size,
/// max entries, flags and (for a map of maps) the inner-map template match (contents kept; global data is always fresh), otherwise a fresh map with the config's initial
/// contents. Nothing running is changed by loading.</para></summary>
public sealed class ProgramSet
{
    private readonly Dictionary<string, RuntimeProgram> _byName = new(StringComparer.Ordinal);
    private readonly List<RuntimeObject> _objects = [];
    private readonly HashSet<BpfMap> _carried = [];
    /// <summary>The config entries of programs kept from the running set, which their <see cref="RuntimeProgram.Config"/>
    /// takes when this set becomes the running one.</summary>
    private readonly Dictionary<string, ProgramConfig> _configs = new(StringComparer.Ordinal);

    public IReadOnlyCollection<RuntimeProgram> Programs => _byName.Values;
    public IReadOnlyList<RuntimeObject> Objects => _objects;

    public RuntimeProgram this[string name] => _byName.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"no program called {PrintableText.Quote(name)} is loaded (the config's programs are: {string.Join(", ", _byName.Keys)})");

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

    /// <summary>This set becomes the running one (a reload applied): each program kept from the running set takes its
    /// entry of the new config, so it says the map contents the config gives it now (what the next reload compares
    /// with), as a program loaded at start would.</summary>
    internal void TakeConfigs()
    {
        foreach (var (name, pc) in _configs) _byName[name].Config = pc;
    }

    /// <summary>A map this set took over from the running set (live: the config's contents are not written at load).</summary>
    public bool IsLive(BpfMap map) => _carried.Contains(map);

    /// <summary>What of this set <paramref name="next"/> does not hold (a reload dropped or replaced it, or this set was
    /// never applied): the maps of its objects — with the inner maps their maps of maps hold — that are not
    /// <paramref name="next"/>'s (a map kept across the reload, or an inner map one of its maps still holds, is), and its
    /// verified programs that <paramref name="next"/> does not run. Programs still <paramref name="attached"/> to a chain
    /// the datapath reads keep their whole object (its maps, its tail-call targets): a chain edit that came between a
    /// reload's plan and its apply attached a program of the set the reload replaced, or an undo that failed left a
    /// pair with the plan's chains.</summary>
    public (IReadOnlyCollection<BpfMap> Maps, IReadOnlyCollection<LoadedProgram> Programs) LeftBy(ProgramSet? next,
        IEnumerable<RuntimeProgram>? attached = null)
    {
        var maps = MapsHeld(_objects);
        var programs = ProgramsHeld(_byName.Values, _objects);
        if (next is not null)
        {
            maps.ExceptWith(MapsHeld(next._objects));
            programs.ExceptWith(ProgramsHeld(next._byName.Values, next._objects));
        }
        if (attached is not null)
        {
            var still = attached.ToList();
            var objects = still.Select(p => p.Object).Distinct().ToList();
            maps.ExceptWith(MapsHeld(objects));
            programs.ExceptWith(ProgramsHeld(still, objects));
        }
        return (maps, programs);
    }

    private static HashSet<BpfMap> MapsHeld(IEnumerable<RuntimeObject> objects)
    {
        var held = new HashSet<BpfMap>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<BpfMap>(objects.SelectMany(o => o.Maps));
        while (pending.TryPop(out var map))
            if (held.Add(map) && map is MapOfMaps outer)
                foreach (var inner in outer.InnerMaps) pending.Push(inner);
        return held;
    }

    private static HashSet<LoadedProgram> ProgramsHeld(IEnumerable<RuntimeProgram> programs, IEnumerable<RuntimeObject> objects)
    {
        var held = new HashSet<LoadedProgram>(ReferenceEqualityComparer.Instance);
        foreach (var p in programs) held.Add(p.Program);
        foreach (var o in objects)
            foreach (var p in o.Loaded)
                if (p is not null) held.Add(p);
        return held;
    }

    /// <param name="configDirectory">Object paths are relative to it.</param>
    /// <param name="objectDirectory">When set, objects are looked up by file name there instead (e.g. out/programs).</param>
    /// <param name="running">The running set, for a reload (see the class summary).</param>
    public static ProgramSet Load(IReadOnlyList<ProgramConfig> programs, string configDirectory, string? objectDirectory = null,
        BpfHelperTable? helpers = null, ProgramSet? running = null)
    {
        helpers ??= LinuxHelperTable.Instance;
        var set = new ProgramSet();
        try
        {
            set.LoadAll(programs, configDirectory, objectDirectory, helpers, running);
            return set;
        }
        catch
        {
            set.FreeUnpublished(running);
            throw;
        }
    }

    /// <summary>What this set holds and <paramref name="running"/> does not, freed at once: for a set nothing ran or
    /// read (a load refused part way, a plan refused or discarded), its reservations and code go now, not at some later
    /// GC. Returns its preallocated storage, about (<see cref="Preallocated"/>), which the GC takes once nothing holds
    /// this set.</summary>
    internal long FreeUnpublished(ProgramSet? running)
    {
        var (maps, loaded) = LeftBy(running);
        long managed = Preallocated(maps);
        RetiredMemory.FreeUnpublished(maps, loaded);
        return managed;
    }

    /// <summary>The preallocated (managed) storage of <paramref name="maps"/>, about: keys and values of those that
    /// reserve nothing. Read before they are freed (a freed reservation reads 0 too).</summary>
    internal static long Preallocated(IEnumerable<BpfMap> maps) =>
        maps.Where(m => m.ReservedBytes == 0).Sum(m => (long)(m.KeySize + m.ValueSize) * m.MaxEntries);

    private void LoadAll(IReadOnlyList<ProgramConfig> programs, string configDirectory, string? objectDirectory, BpfHelperTable helpers,
        ProgramSet? running)
    {
        var objects = new Dictionary<string, RuntimeObject>(StringComparer.Ordinal);
        var fresh = new HashSet<RuntimeObject>();
        foreach (var pc in programs)
        {
            string path = ProgramObjectPaths.Resolve(pc, configDirectory, objectDirectory);
            if (!objects.TryGetValue(path, out var obj))
            {
                obj = LoadObject(pc, path, running,
                    [.. programs.Where(q => ProgramObjectPaths.Resolve(q, configDirectory, objectDirectory) == path)]);
                objects[path] = obj;
                _objects.Add(obj);
                if (running is null || !running._objects.Contains(obj)) fresh.Add(obj);
            }
            var elf = obj.Elf;
            int index = -1;
            for (int i = 0; i < elf.Programs.Count; i++)
                if (elf.Programs[i].Section == pc.Section) { index = i; break; }
            if (index < 0)
                throw new RuntimeSetupException($"program '{pc.Name}': {path} has no section \"{pc.Section}\" " +
                    $"(its program sections: {string.Join(", ", elf.Programs.Select(p => p.Section))})");
            if (fresh.Contains(obj)) FillMaps(pc, obj, this);
            else CheckMaps(pc, obj);
            RuntimeProgram? old = null;
            running?._byName.TryGetValue(pc.Name, out old);
            if (old is not null && ReferenceEquals(old.Object, obj) && old.Config.Section == pc.Section)
            {
                // The same program; a change of its maps' contents in the config is a plan step of its own.
                _byName[pc.Name] = old.Config.Object == pc.Object ? old : new RuntimeProgram(pc, old.Program, obj, old.Counters);
                _configs[pc.Name] = pc;
                continue;
            }
            var loaded = obj.Loaded[index] ?? Verify(pc, path, elf.Programs[index], obj, helpers);
            if (fresh.Contains(obj)) obj.Loaded[index] = loaded;
            _byName[pc.Name] = new RuntimeProgram(pc, loaded, obj, old?.Counters);
        }
        foreach (var obj in fresh)
        {
            IReadOnlyList<LoadedProgram?> targets = obj.Loaded;
            foreach (var p in obj.Loaded) if (p is not null) p.TailCallTargets = targets;
        }
    }

    /// <param name="users">Every program of the new config loaded from <paramref name="path"/>.</param>
    private RuntimeObject LoadObject(ProgramConfig pc, string path, ProgramSet? running, IReadOnlyList<ProgramConfig> users)
    {
        byte[] bytes;
        try
        {
            bytes = ProgramObjectFile.Read(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeSetupException($"program '{pc.Name}': cannot read {path}: {e.Message}", e);
        }
        string hash = Convert.ToHexStringLower(XxHash128.Hash(bytes)); // no OpenSSL: the board image has no libssl
        var before = running?._objects.FirstOrDefault(o => o.Path == path);
        if (before is not null && before.Hash == hash && before.Bytes.AsSpan().SequenceEqual(bytes) && SameFrozenData(before, running!, users))
            return before;
        before ??= running is not null && running._byName.TryGetValue(pc.Name, out var named) ? named.Object : null;
        BpfObject elf;
        try
        {
            elf = BpfObjectLoader.Load(bytes, path);
        }
        catch (BpfLoadException e)
        {
            throw new RuntimeSetupException($"program '{pc.Name}': cannot load {path}: {e.Message}", e);
        }
        var maps = new List<BpfMap>(elf.Maps.Count);
        try
        {
            CreateMaps(pc, path, elf, before, maps);
        }
        catch
        {
            RetiredMemory.FreeUnpublished([.. maps.Where(m => !_carried.Contains(m))], []);
            throw;
        }
        return new RuntimeObject(path, hash, bytes, elf, maps);
    }

    /// <summary>The object's maps in declaration order: <paramref name="before"/>'s of the same name, shape and flags
    /// (kept; a map of maps also needs the same inner-map template, <see cref="SameShape"/>), else fresh (a map the new object declares BPF_F_NO_PREALLOC, or read-only to programs, is made so); then
    /// the initial slots of its fresh prog arrays and maps of maps.</summary>
    private void CreateMaps(ProgramConfig pc, string path, BpfObject elf, RuntimeObject? before, List<BpfMap> maps)
    {
        foreach (var def in elf.Maps)
        {
            var live = before?.FindMap(def.Name);
            if (live is not null && def.InitialValue is null && live.Definition.InitialValue is null && SameShape(live.Definition, def))
            {
                maps.Add(live);
                _carried.Add(live);
                continue;
            }
            try { maps.Add(BpfMap.Create(def, Environment.ProcessorCount)); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
                throw new RuntimeSetupException($"program '{pc.Name}': map '{def.Name}' of {path}: {e.Message}", e);
            }
        }
        try { MapOfMaps.BindInitialSlots(maps, _carried.Contains); }
        catch (ArgumentException e)
        {
            throw new RuntimeSetupException($"program '{pc.Name}' ({path}): {e.Message}", e);
        }
    }

    /// <summary>A running map can stand for a new declaration: the same type, key size, value size, max entries and
    /// flags, and for a map of maps the same inner-map template (the new programs were verified against the new
    /// template: a kept outer map would hand them inner maps of the old shape, and take no map of the new one). A
    /// changed static initialiser (`.values`) alone does not count: the running slots are state the operator may have
    /// edited (`maps update`), as a carried map's contents are.</summary>
    private static bool SameShape(BpfMapDefinition live, BpfMapDefinition def) =>
        live.Type == def.Type && live.KeySize == def.KeySize && live.ValueSize == def.ValueSize && live.MaxEntries == def.MaxEntries
        && live.Flags == def.Flags
        && (live.InnerMap is null ? def.InnerMap is null : def.InnerMap is not null && SameShape(live.InnerMap, def.InnerMap));

    /// <summary>Whether the config gives <paramref name="before"/>'s frozen maps (.rodata) the contents the running
    /// config gave them. Such a map is frozen once loaded, as libbpf freezes .rodata (the verifier judged constant
    /// strings in it, and `maps update` refuses it), so new contents load the object afresh, verified again, instead
    /// of changing the live map.</summary>
    private static bool SameFrozenData(RuntimeObject before, ProgramSet running, IReadOnlyList<ProgramConfig> users)
    {
        var runningUsers = running._byName.Values.Where(p => p.Object == before).Select(p => p.Config).ToList();
        foreach (var map in before.Maps)
        {
            if (!map.Definition.Frozen) continue;
            var was = FrozenEntries(runningUsers, map);
            var now = FrozenEntries(users, map);
            if (was.Count != now.Count || was.Zip(now).Any(x => !x.First.Key.AsSpan().SequenceEqual(x.Second.Key) || !x.First.Value.AsSpan().SequenceEqual(x.Second.Value)))
                return false;
        }
        return true;

        static List<(byte[] Key, byte[] Value)> FrozenEntries(IEnumerable<ProgramConfig> configs, BpfMap map) =>
            [.. configs.SelectMany(c => c.Maps.TryGetValue(map.Name, out var entries) ? Entries(c, map.Name, map, entries) : [])];
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

    /// <summary>Writes the config's initial contents into the object's fresh maps (keys and values in the map's
    /// sizes); a map carried over from the running set keeps its contents.</summary>
    private static void FillMaps(ProgramConfig pc, RuntimeObject obj, ProgramSet set)
    {
        foreach (var (mapName, entries) in pc.Maps)
        {
            var map = FindMap(pc, obj, mapName);
            if (set._carried.Contains(map)) continue;
            var data = Entries(pc, mapName, map, entries);
            for (int i = 0; i < data.Count; i++)
            {
                int rc = map.UpdateFromUser(data[i].Key, data[i].Value, 0);
                if (rc != 0)
                    throw new RuntimeSetupException($"program '{pc.Name}': map '{mapName}' entry {i}: update failed with {rc} (full, or a key out of range?)");
            }
        }
    }

    private static void CheckMaps(ProgramConfig pc, RuntimeObject obj)
    {
        foreach (var (mapName, entries) in pc.Maps) Entries(pc, mapName, FindMap(pc, obj, mapName), entries);
    }

    private static BpfMap FindMap(ProgramConfig pc, RuntimeObject obj, string mapName) => obj.FindMap(mapName) ?? throw new RuntimeSetupException(
        $"program '{pc.Name}': {obj.Path} declares no map '{mapName}' (its maps: {string.Join(", ", obj.Maps.Select(m => m.Name))})");

    /// <summary>The config's entries for one map as key and value bytes in the map's sizes.</summary>
    internal static List<(byte[] Key, byte[] Value)> Entries(ProgramConfig pc, string mapName, BpfMap map, IReadOnlyList<MapEntryConfig> entries)
    {
        var list = new List<(byte[], byte[])>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var key = entries[i].Key.ToBytes(map.KeySize) ?? throw new RuntimeSetupException(
                $"program '{pc.Name}': map '{mapName}' entry {i}: the key does not fit the map's {map.KeySize}-byte keys");
            var value = entries[i].Value.ToBytes(map.UserValueSize) ?? throw new RuntimeSetupException(
                $"program '{pc.Name}': map '{mapName}' entry {i}: the value does not fit the map's {map.UserValueSize}-byte values");
            list.Add((key, value));
        }
        return list;
    }
}
