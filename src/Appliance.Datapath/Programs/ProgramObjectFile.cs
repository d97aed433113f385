using Appliance.Config;
using Appliance.Interop;

namespace Appliance.Datapath.Programs;

/// <summary>An eBPF object file a config names, read as the config is (<see cref="UserFile"/>: a device is refused, a
/// pipe read within 5 s, never waited on for ever), at most <see cref="ConfigLimits.MaxObjectBytes"/>.</summary>
internal static class ProgramObjectFile
{
    /// <summary>The file's bytes; <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> with why not.</summary>
    public static byte[] Read(string path) => UserFile.ReadAll(path, ConfigLimits.MaxObjectBytes);
}
