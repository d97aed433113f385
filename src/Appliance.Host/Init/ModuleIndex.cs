namespace Appliance.Host.Init;

/// <summary>Module name → file, built from the files under the modules directory (any layout: flat as in
/// a minimal initramfs, or Debian's kernel/drivers/… tree). Names are compared as the kernel does, with
/// '-' and '_' equivalent; .ko, .ko.xz, .ko.zst and .ko.gz are recognised.</summary>
public sealed class ModuleIndex
{
    private static readonly string[] Suffixes = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];
    private readonly Dictionary<string, string> _paths = new(StringComparer.Ordinal);

    public ModuleIndex(IEnumerable<string> files)
    {
        foreach (var file in files)
            if (NameOf(file) is { } name) _paths.TryAdd(name, file);
    }

    public int Count => _paths.Count;

    /// <summary>The file for <paramref name="module"/> ("virtio_blk", "nls-ascii"), or null.</summary>
    public string? Find(string module) => _paths.GetValueOrDefault(Normalize(module));

    public static bool IsCompressed(string path) => !path.EndsWith(".ko", StringComparison.Ordinal);

    private static string? NameOf(string path)
    {
        var file = Path.GetFileName(path);
        foreach (var suffix in Suffixes)
            if (file.EndsWith(suffix, StringComparison.Ordinal)) return Normalize(file[..^suffix.Length]);
        return null;
    }

    private static string Normalize(string module) => module.Replace('-', '_');
}
