using Appliance.Config;
using Appliance.Host.Leds;

namespace Appliance.Host.Init;

/// <summary>Which config the board runs: the user's file when valid; else config.last-good.json beside it
/// (health <see cref="ConfigHealth.Fallback"/>); else none (health <see cref="ConfigHealth.Invalid"/>).
/// Every error of the user's file is logged with its location.</summary>
public static class ConfigSelection
{
    public const string LastGoodFileName = "config.last-good.json";

    public static (ApplianceConfig? Config, ConfigHealth Health, string? BaseDirectory) Load(string configPath, TextWriter log)
    {
        var result = ConfigLoader.LoadFile(configPath);
        if (result.IsValid) return (result.Config, ConfigHealth.Ok, result.BaseDirectory);
        foreach (var error in result.Errors) log.WriteLine($"init: level=error config={configPath} msg=\"{error}\"");
        var lastGood = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", LastGoodFileName);
        if (File.Exists(lastGood) && ConfigLoader.LoadFile(lastGood) is { IsValid: true } fallback)
        {
            log.WriteLine($"init: level=warn msg=\"{configPath} is invalid ({result.Errors.Count} error(s)); running the last known good {lastGood}\"");
            return (fallback.Config, ConfigHealth.Fallback, fallback.BaseDirectory);
        }
        log.WriteLine($"init: level=error msg=\"{configPath} is invalid ({result.Errors.Count} error(s)) and there is no valid {lastGood}; the datapath stays down and the status LED blinks fast until the file is fixed\"");
        return (null, ConfigHealth.Invalid, null);
    }
}
