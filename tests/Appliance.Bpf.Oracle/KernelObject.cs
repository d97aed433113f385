using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Interop;

namespace Appliance.Bpf.Oracle;

/// <summary>The kernel oracle: the same <see cref="BpfObject"/> our loader produced, loaded into the
/// kernel. Maps are created with the same type, sizes and flags (global data filled with its initial
/// bytes; .rodata frozen, as libbpf does), map references are patched from map index to map fd (src
/// stays 1 or 2), and each program is loaded as BPF_PROG_TYPE_SCHED_CLS with the object's license.
/// Disposing closes every fd, so the kernel frees the maps and programs.</summary>
public sealed class KernelObject : IDisposable
{
    private readonly List<int> _mapFds = new();
    private readonly Dictionary<string, int> _programFds = new();

    private KernelObject(BpfObject obj) => Object = obj;

    public BpfObject Object { get; }
    public static int PossibleCpus => Appliance.Bpf.Maps.PossibleCpus.Count;

    public static KernelObject Load(BpfObject obj, Action<KernelObject>? beforePrograms = null)
    {
        var k = new KernelObject(obj);
        try
        {
            foreach (var def in obj.Maps) k._mapFds.Add(CreateMap(def));
            beforePrograms?.Invoke(k);
            foreach (var def in obj.Maps.Where(m => m.Frozen)) KernelBpf.FreezeMap(k.MapFd(def.Name));
            foreach (var prog in obj.Programs)
            {
                var insns = KernelBpf.WithMapFds(prog.Instructions, k._mapFds.ToArray());
                k._programFds[prog.Name] = BpfSyscall.LoadProgram(KernelBpf.ProgTypeSchedCls, insns, prog.Name, obj.License);
            }
            return k;
        }
        catch
        {
            k.Dispose();
            throw;
        }
    }

    /// <summary>The object as libbpf loads it (bpftool prog loadall): what a program needs beyond raw
    /// instructions — BTF and func_info (callbacks), BTF-described map values (bpf_spin_lock), inner map
    /// templates and initial slots of maps of maps — is libbpf's, the reference for how the engine's loader
    /// reads the same object. Maps and programs are pinned in a private bpffs folder only long enough to open
    /// fds on them (by name: libbpf pins a map under its name with '.' as '_', global data with the object's name first).</summary>
    public static KernelObject LoadWithLibbpf(BpfObject obj)
    {
        var dir = $"{s_bpffs.Value}/mapp-oracle-{Environment.ProcessId}-{Interlocked.Increment(ref s_pinDirs)}";
        var k = new KernelObject(obj);
        try
        {
            Directory.CreateDirectory(dir);
            var run = Appliance.TestSupport.Shell.Run("bpftool", "prog", "loadall", obj.Path, dir + "/progs", "pinmaps", dir + "/maps");
            if (run.ExitCode != 0) throw new InvalidOperationException($"bpftool prog loadall {obj.Path} failed:\n{run.StdErr}");
            foreach (var def in obj.Maps)
            {
                var pinned = def.Name.Replace('.', '_');
                var path = $"{dir}/maps/{pinned}";
                // Global data: libbpf prefixes the object's name ("spin_met.rodata", pinned "spin_met_rodata").
                if (!File.Exists(path) && def.Name.StartsWith('.'))
                    path = Directory.GetFiles(dir + "/maps").SingleOrDefault(f => Path.GetFileName(f).EndsWith(pinned, StringComparison.Ordinal)) ?? path;
                if (!File.Exists(path))
                    throw new InvalidOperationException($"libbpf pinned no map for '{def.Name}' (it pinned: {string.Join(", ", Directory.GetFiles(dir + "/maps").Select(Path.GetFileName))})");
                k._mapFds.Add(KernelBpf.GetPinned(path));
            }
            foreach (var prog in obj.Programs)
                k._programFds[prog.Name] = KernelBpf.GetPinned($"{dir}/progs/{prog.Name}");
            return k;
        }
        catch
        {
            k.Dispose();
            throw;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static int s_pinDirs;

    /// <summary>Where libbpf pins: /sys/fs/bpf where the system mounted bpffs there (systemd does), otherwise a private
    /// bpffs instance in a temp folder, unmounted and removed when the test process exits (a fresh machine without
    /// systemd, such as a CI container, has no bpffs).</summary>
    private static readonly Lazy<string> s_bpffs = new(() =>
    {
        const string system = "/sys/fs/bpf";
        if (File.ReadLines("/proc/self/mounts").Any(l => l.Split(' ') is [_, system, "bpf", ..])) return system;
        var own = Directory.CreateTempSubdirectory("mapp-bpffs-").FullName;
        var mount = Appliance.TestSupport.Shell.Run("mount", "-t", "bpf", "bpf", own);
        if (mount.ExitCode != 0) throw new InvalidOperationException($"no bpffs at {system} and mounting one at {own} failed:\n{mount.StdErr}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Appliance.TestSupport.Shell.Run("umount", "-l", own);
            Directory.Delete(own);
        };
        return own;
    });

    private static int CreateMap(BpfMapDefinition def)
    {
        int fd = BpfSyscall.CreateMap((int)def.Type, def.KeySize, def.ValueSize, def.MaxEntries, def.Name, def.Flags);
        if (def.InitialValue is { } initial)
            BpfSyscall.UpdateElem(fd, new byte[4], initial);
        return fd;
    }

    public int MapFd(string name) => _mapFds[MapIndex(name)];

    public int ProgramFd(string name) => _programFds[name];

    public BpfMapDefinition Map(string name) => Object.Maps[MapIndex(name)];

    /// <summary>Size of a value as the kernel's syscalls see it (per-CPU: one 8-aligned slot per possible CPU).</summary>
    public int UserValueSize(string name)
    {
        var def = Map(name);
        return DifferentialScenario.IsPerCpu(def.Type)
            ? ((def.ValueSize + 7) & ~7) * PossibleCpus
            : def.ValueSize;
    }

    /// <summary>Writes an entry. A PROG_ARRAY value is a program index in the object (as the engine stores
    /// it); the kernel gets that program's fd.</summary>
    public void Update(string map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = 0)
    {
        if (Map(map).Type == BpfMapType.ProgArray)
        {
            int program = BitConverter.ToInt32(value);
            BpfSyscall.UpdateElem(MapFd(map), key, BitConverter.GetBytes(ProgramFd(Object.Programs[program].Name)), flags);
            return;
        }
        BpfSyscall.UpdateElem(MapFd(map), key, value, flags);
    }

    public byte[]? Lookup(string map, ReadOnlySpan<byte> key)
    {
        var value = new byte[UserValueSize(map)];
        return BpfSyscall.LookupElem(MapFd(map), key, value) ? value : null;
    }

    /// <summary>Every (key, value) of the map, in the kernel's iteration order. A queue or stack is drained in
    /// pop order (empty keys).</summary>
    public List<(byte[] Key, byte[] Value)> Dump(string map)
    {
        var def = Map(map);
        if (def.Type is BpfMapType.Queue or BpfMapType.Stack)
        {
            var popped = new List<(byte[], byte[])>();
            for (var value = new byte[def.ValueSize]; KernelBpf.LookupAndDeleteElem(MapFd(map), [], value); value = new byte[def.ValueSize])
                popped.Add(([], value));
            return popped;
        }
        if (def.Type is BpfMapType.ProgArray or BpfMapType.RingBuf or BpfMapType.PerfEventArray)
            throw new NotSupportedException($"map '{map}' ({def.Type}) has no values user space can read here");
        var result = new List<(byte[], byte[])>();
        var key = Array.Empty<byte>();
        var next = new byte[def.KeySize];
        while (KernelBpf.GetNextKey(MapFd(map), key, next))
        {
            key = (byte[])next.Clone();
            if (Lookup(map, key) is { } value) result.Add((key, value));
        }
        return result;
    }

    /// <summary>BPF_PROG_TEST_RUN with a __sk_buff context: the verdict, the output frame, the context after
    /// the run, and the kernel's average ns per run.</summary>
    public KernelRunResult Run(string program, ReadOnlySpan<byte> frame, byte[]? skb = null, uint repeat = 1)
    {
        var dataOut = new byte[Math.Max(frame.Length, EngineObject.MaxKernelFrame) + 4096];
        var ctxIn = skb ?? KernelSkBuff.Create();
        var ctxOut = new byte[KernelSkBuff.Size];
        var (retval, outLength, duration) = KernelBpf.TestRun(ProgramFd(program), frame, dataOut, ctxIn, ctxOut, repeat);
        return new KernelRunResult(retval, dataOut[..outLength], ctxOut, duration);
    }

    private int MapIndex(string name)
    {
        for (int i = 0; i < Object.Maps.Count; i++)
            if (Object.Maps[i].Name == name) return i;
        throw new ArgumentException($"no map '{name}' in {Object.Path}", nameof(name));
    }

    public void Dispose()
    {
        foreach (var fd in _programFds.Values) LibC.Close(fd);
        foreach (var fd in _mapFds) LibC.Close(fd);
        _programFds.Clear();
        _mapFds.Clear();
    }
}

/// <summary>What one BPF_PROG_TEST_RUN gave back.</summary>
public sealed record KernelRunResult(uint Retval, byte[] Frame, byte[] SkBuff, uint DurationNs);
