using Appliance.Host.Init;

namespace Appliance.Host.Button;

/// <summary>What a long press of the failsafe button does to the files: the config is replaced by
/// config.last-good.json beside it (the last config that ran healthy), else by config.factory.json (the image's
/// own config), atomically; the replaced file is kept as CONFIG.before-failsafe.</summary>
public static class FailsafeConfig
{
    public const string FactoryFileName = "config.factory.json", BackupSuffix = ".before-failsafe";

    /// <summary>The file the config now comes from, or null when there is neither (nothing changed).</summary>
    public static string? Restore(string configPath)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".";
        foreach (var source in new[] { ConfigSelection.LastGoodPathFor(configPath), Path.Combine(directory, FactoryFileName) })
        {
            if (!File.Exists(source)) continue;
            if (File.Exists(configPath)) File.Copy(configPath, configPath + BackupSuffix, overwrite: true);
            string temporary = configPath + ".failsafe.tmp";
            File.Copy(source, temporary, overwrite: true);
            File.Move(temporary, configPath, overwrite: true);
            return source;
        }
        return null;
    }
}
