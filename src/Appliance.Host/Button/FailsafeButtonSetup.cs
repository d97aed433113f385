using Appliance.Datapath.Diagnostics;
using Appliance.Config;
using Appliance.Host.Control;
using Appliance.Host.Leds;
using Appliance.Host.Leds.Triggers;
using Appliance.Host.State;

namespace Appliance.Host.Button;

/// <summary>Wires the config's `button` to the running appliance: a long press restores the last good (or factory)
/// config through <see cref="FailsafeConfig"/>, reloads it and shows it on the status LED (50/50 ms, as for any
/// fallback config, until the next start); a short press says on the console what the status LED means now.
/// The GPIO line comes from the LED driver in use (libgpiod on a board, the in-memory driver with `--leds memory`).</summary>
public static class FailsafeButtonSetup
{
    public static FailsafeButton? Open(ButtonConfig? button, LedController? leds, ApplianceState state, string configPath,
        Func<ControlResponse> reload, Logger log, string name)
    {
        if (button is null) return null;
        if (leds is null)
        {
            log.Warn(name, "the failsafe button needs a GPIO driver; --leds none has none, so the button is not watched");
            return null;
        }
        try
        {
            var controller = leds.Lines.GpioBackend().Controller(button.Chip);
            var watched = new FailsafeButton(controller, button.Line, button.ActiveLow,
                longPress: () => LongPress(state, configPath, reload, log, name),
                shortPress: () => ShortPress(state, log, name));
            log.Info(name, $"failsafe button on {button.Chip}:{button.Line} (active {(button.ActiveLow ? "low" : "high")}): hold {FailsafeButton.LongPress.TotalSeconds:0} s for the last good config");
            return watched;
        }
        catch (Exception e) when (e is LedHardwareException or IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
        {
            log.Error(name, $"the failsafe button {button.Chip}:{button.Line} cannot be watched: {e.Message}");
            return null;
        }
    }

    private static void LongPress(ApplianceState state, string configPath, Func<ControlResponse> reload, Logger log, string name)
    {
        string? source;
        try
        {
            source = FailsafeConfig.Restore(configPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error(name, $"failsafe button: restoring a config failed: {e.Message}; nothing changed");
            return;
        }
        if (source is null)
        {
            log.Error(name, $"failsafe button: there is no {Path.GetFileName(Init.ConfigSelection.LastGoodPathFor(configPath))} " +
                           $"or {FailsafeConfig.FactoryFileName} beside {configPath}; nothing changed");
            return;
        }
        state.ConfigHealth = ConfigHealth.Fallback; // status LED 50/50 ms
        var r = reload();
        log.Warn(name, $"failsafe button: {configPath} replaced by {source} (the previous one is {configPath}{FailsafeConfig.BackupSuffix}); " +
                       (r.Ok ? "running it" : $"reload refused ({r.Error}); it runs from the next start"));
        Console.Out.WriteLine($"meta-appliance: failsafe button: switched to {Path.GetFileName(source)}");
        Console.Out.Flush();
    }

    /// <summary>What the status LED shows right now, in words: what a short press prints (one line per mode of
    /// <see cref="StatusTrigger"/>, so the words and the blinking cannot disagree).</summary>
    public static string StatusLedMeaning(ApplianceState state) => StatusTrigger.ModeOf(state) switch
    {
        StatusMode.Fault => "blinking 1 s on/off: a fault (" + string.Join("; ", state.Faults.Select(f => $"{f.Key}: {f.Value}")) + ")",
        StatusMode.Degraded => "blinking 50/50 ms: running a fallback config (last good or failsafe), or the config is invalid",
        StatusMode.PendingConfirm => $"blinking 500/500 ms: a change waits for `meta-appliance confirm` (rolled back at {state.ConfirmDeadline:HH:mm:ss} UTC)",
        StatusMode.Booting => "blinking 100/100 ms: starting",
        _ => "steady on: forwarding with the config as written",
    };

    private static void ShortPress(ApplianceState state, Logger log, string name)
    {
        var meaning = StatusLedMeaning(state);
        log.Info(name, $"failsafe button: short press; the status LED is {meaning}");
        Console.Out.WriteLine($"meta-appliance: status LED {meaning}");
        Console.Out.Flush();
    }
}
