using Appliance.Host.Init;
using Appliance.Interop;

namespace Appliance.Host.Tests.Init;

/// <summary>An init platform in memory: a mount table, files, devices that appear after some polls, and
/// errnos to fail mounts or module loads with. Records every mount and module load in order.</summary>
public sealed class FakeInitPlatform : IInitPlatform
{
    public List<MountSpec> Mounts { get; } = [];
    public List<string> LoadedModules { get; } = [];
    public HashSet<string> MountedTargets { get; } = [];
    public Dictionary<string, string> Files { get; } = [];
    public Dictionary<string, int> MountErrno { get; } = [];
    public Dictionary<string, int> ModuleErrno { get; } = [];

    /// <summary>Device path → how many Exists() calls return false before it appears.</summary>
    public Dictionary<string, int> DevicesAfterPolls { get; } = [];

    public void Mount(MountSpec spec)
    {
        if (MountErrno.TryGetValue(spec.Target, out var errno)) throw new PlatformException("mount", spec.ToString(), errno);
        Mounts.Add(spec);
        MountedTargets.Add(spec.Target);
    }

    public string? ReadMountTable() =>
        MountedTargets.Contains("/proc") ? string.Concat(MountedTargets.Select(t => $"none {t.Replace(" ", "\\040")} x rw 0 0\n")) : null;

    public bool Exists(string path)
    {
        if (Files.ContainsKey(path)) return true;
        if (!DevicesAfterPolls.TryGetValue(path, out var left)) return false;
        if (left == 0) return true;
        DevicesAfterPolls[path] = left - 1;
        return false;
    }

    public string ReadText(string path) => Files[path];

    public IEnumerable<string> ListFiles(string directory) => Files.Keys.Where(f => f.StartsWith(directory + "/", StringComparison.Ordinal));

    public void LoadModule(string path)
    {
        if (ModuleErrno.TryGetValue(Path.GetFileName(path), out var errno)) throw new PlatformException("finit_module", path, errno);
        LoadedModules.Add(path);
    }
}
