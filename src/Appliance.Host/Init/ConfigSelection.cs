using Appliance.Datapath.Diagnostics;
using Appliance.Config;
using Appliance.Host.State;

namespace Appliance.Host.Init;

/// <summary>Which config the appliance runs: the user's file when valid; else config.last-good.json beside it
/// (health <see cref="ConfigHealth.Fallback"/>); else none (health <see cref="ConfigHealth.Invalid"/>).
/// Every error of the user's file is logged with its location.</summary>
public static class ConfigSelection
{
    public const string LastGoodFileName = "config.last-good.json";

    /// <summary>config.last-good.json in the folder of <paramref name="configPath"/>.</summary>
    public static string LastGoodPathFor(string configPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", LastGoodFileName);

    /// <summary>The selected config, its health, its folder and the bytes of the file it was loaded from (one read:
    /// what runs and what a rollback or the last good copy keeps are the same bytes; null when there is no config).
    /// <paramref name="staysUp"/>: the caller stays up without a config (init), so the log says what waits for the fix;
    /// `run` stops instead and says so itself.</summary>
    public static (ApplianceConfig? Config, ConfigHealth Health, string? BaseDirectory, byte[]? Bytes) Load(
        string configPath, Logger log, ConfigLoadOptions? options = null, string logName = "init", bool staysUp = true)
    {
        var result = ConfigLoader.LoadFile(configPath, options);
        if (result.IsValid) return (result.Config, ConfigHealth.Ok, result.BaseDirectory, result.Bytes);
        foreach (var error in result.Errors) log.Error(logName, error.ToString(), ("config", configPath));
        var lastGood = LastGoodPathFor(configPath);
        if (File.Exists(lastGood) && ConfigLoader.LoadFile(lastGood, options) is { IsValid: true } fallback)
        {
            log.Warn(logName, $"{configPath} is invalid ({result.Errors.Count} error(s)); running the last known good {lastGood}");
            return (fallback.Config, ConfigHealth.Fallback, fallback.BaseDirectory, fallback.Bytes);
        }
        log.Error(logName, $"{configPath} is invalid ({result.Errors.Count} error(s)) and there is no valid {lastGood}" +
                           (staysUp ? "; the datapath stays down and the status LED blinks fast until the file is fixed" : ""));
        return (null, ConfigHealth.Invalid, null, null);
    }
}
