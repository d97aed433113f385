namespace Appliance.Host.Init;

/// <summary>The system calls behind the init duties, so the mount and module logic is testable with a
/// fake. <see cref="LinuxInitPlatform"/> is the real one.</summary>
public interface IInitPlatform
{
    /// <summary>Creates the target directory if needed and mounts; throws <see cref="Interop.PlatformException"/>.</summary>
    void Mount(MountSpec spec);

    /// <summary>The text of /proc/self/mounts, or null while /proc is not mounted.</summary>
    string? ReadMountTable();

    bool Exists(string path);

    string ReadText(string path);

    /// <summary>Every file under <paramref name="directory"/>, recursively (empty when it does not exist).</summary>
    IEnumerable<string> ListFiles(string directory);

    /// <summary>finit_module(2) on the file; throws <see cref="Interop.PlatformException"/> (EEXIST when already loaded).</summary>
    void LoadModule(string path);
}
