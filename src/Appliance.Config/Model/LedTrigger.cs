using System.Text.Json.Serialization;

namespace Appliance.Config;

/// <summary>An LED trigger as written in the config: "status", "link:eth0", "activity:tenant-a", ...</summary>
[JsonConverter(typeof(LedTriggerJsonConverter))]
public readonly record struct LedTrigger(LedTriggerKind Kind, string? Target)
{
    public const string Expected =
        "one of \"status\", \"heartbeat\", \"link:PORT\", \"activity:PORT\", \"activity:PAIR\", \"fault\", \"on\", \"off\"";

    public static bool TryParse(string text, out LedTrigger trigger)
    {
        trigger = default;
        int colon = text.IndexOf(':');
        string word = colon < 0 ? text : text[..colon];
        string? target = colon < 0 ? null : text[(colon + 1)..];
        LedTriggerKind? kind = word switch
        {
            "status" => LedTriggerKind.Status,
            "heartbeat" => LedTriggerKind.Heartbeat,
            "link" => LedTriggerKind.Link,
            "activity" => LedTriggerKind.Activity,
            "fault" => LedTriggerKind.Fault,
            "on" => LedTriggerKind.On,
            "off" => LedTriggerKind.Off,
            _ => null,
        };
        if (kind is null) return false;
        bool needsTarget = kind is LedTriggerKind.Link or LedTriggerKind.Activity;
        if (needsTarget != (target is { Length: > 0 })) return false;
        trigger = new LedTrigger(kind.Value, target);
        return true;
    }

    public static LedTrigger Parse(string text) =>
        TryParse(text, out var t) ? t : throw new FormatException($"\"{text}\" is not {Expected}");

    public override string ToString()
    {
        string word = Kind.ToString().ToLowerInvariant();
        return Target is null ? word : $"{word}:{Target}";
    }
}
