using Appliance.Host.State;
namespace Appliance.Host.Leds.Triggers;

/// <summary>Turns a trigger as written in the config into an <see cref="ILedTrigger"/>:
/// status | heartbeat | link:NAME | activity:NAME | fault | on | off.</summary>
public static class LedTriggerParser
{
    public const string Expected = "one of status, heartbeat, link:PORT, activity:PORT|PAIR, fault, on, off";

    /// <summary>Null when <paramref name="text"/> is a valid trigger, else why not (for config validation).</summary>
    public static string? Validate(string text)
    {
        var (kind, arg) = Split(text);
        return kind switch
        {
            "status" or "heartbeat" or "fault" or "on" or "off" when arg is null => null,
            "status" or "heartbeat" or "fault" or "on" or "off" => $"trigger \"{kind}\" takes no argument, got \"{text}\"",
            "link" or "activity" when string.IsNullOrWhiteSpace(arg) => $"trigger \"{kind}\" needs a port or pair name: \"{kind}:eth0\"",
            "link" or "activity" => null,
            _ => $"unknown LED trigger \"{text}\"; expected {Expected}",
        };
    }

    public static ILedTrigger Parse(string text, ApplianceState state)
    {
        if (Validate(text) is { } error) throw new FormatException(error);
        var (kind, arg) = Split(text);
        return kind switch
        {
            "status" => new StatusTrigger(state),
            "heartbeat" => new HeartbeatTrigger(),
            "fault" => new FaultTrigger(state),
            "on" => new ConstantTrigger(true),
            "off" => new ConstantTrigger(false),
            "link" => new LinkTrigger(state.Interface(arg!)),
            _ => new ActivityTrigger(state.Interface(arg!)),
        };
    }

    private static (string Kind, string? Arg) Split(string text)
    {
        var colon = text.IndexOf(':');
        return colon < 0 ? (text.Trim(), null) : (text[..colon].Trim(), text[(colon + 1)..].Trim());
    }
}
