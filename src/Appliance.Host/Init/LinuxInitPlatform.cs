using Appliance.Interop;

namespace Appliance.Host.Init;

/// <summary>The real init platform: mount(2), finit_module(2), the file system.</summary>
public sealed class LinuxInitPlatform : IInitPlatform
{
    public static readonly LinuxInitPlatform Instance = new();

    public void Mount(MountSpec spec)
    {
        Directory.CreateDirectory(spec.Target);
        if (LibC.Mount(spec.Source, spec.Target, spec.FileSystemType, spec.Flags, spec.Data) != 0)
            throw PlatformException.FromLastError("mount", spec.ToString(), MountHint(spec));
    }

    private static string? MountHint(MountSpec spec) =>
        spec.FileSystemType == "vfat"
            ? "Check that the disk driver and fat, vfat, nls_cp437, nls_ascii modules are in the board's module list"
            : null;

    public string? ReadMountTable() => File.Exists("/proc/self/mounts") ? File.ReadAllText("/proc/self/mounts") : null;

    public bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public string ReadText(string path) => File.ReadAllText(path);

    public IEnumerable<string> ListFiles(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories) : [];

    public void LoadModule(string path)
    {
        var fd = LibC.Open(path, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_CLOEXEC);
        if (fd < 0) throw PlatformException.FromLastError("open kernel module", path);
        try
        {
            var flags = ModuleIndex.IsCompressed(path) ? InitSyscalls.MODULE_INIT_COMPRESSED_FILE : 0;
            if (InitSyscalls.FinitModule(fd, "", flags) != 0)
                throw PlatformException.FromLastError("finit_module", path,
                    "Check that the module matches the running kernel and that its dependencies are listed before it");
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
