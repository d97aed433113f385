using System.Text;
using System.Text.Json;
using Appliance.Host.Leds;

namespace Appliance.Host.Control;

/// <summary>The control socket's <c>leds</c> verb: without arguments each LED's name, line, trigger, whether it
/// is lit now (and what its trigger wants, which differs in night mode), its error if any, and the global night
/// mode, as a table or (<c>--json</c>) <c>{"nightMode":bool,"leds":[{"name","line","trigger","on","triggerOn","error"}]}</c>;
/// <c>leds off</c> / <c>leds on</c> switch night mode (every LED dark / triggers shown again) at run time.</summary>
public static class LedControl
{
    public static void Register(ControlServer server, LedController? leds) =>
        server.Register("leds", r => leds is null
            ? ControlResponse.Failure("this appliance drives no LEDs (started with --leds none); start it with --leds gpio or --leds memory")
            : Handle(leds, r));

    private static ControlResponse Handle(LedController leds, ControlRequest request)
    {
        Cli.CliArgs a;
        try
        {
            a = ControlArguments.Parse(Commands.ControlVerbs.Leds, request.Args);
        }
        catch (ArgumentException e)
        {
            return ControlResponse.Failure(e.Message);
        }
        switch (a.Positional(0))
        {
            case "off":
                leds.AllOff = true;
                return ControlResponse.Success("night mode on: every LED is off");
            case "on":
                leds.AllOff = false;
                return ControlResponse.Success("night mode off: the LEDs show their triggers");
            default:
                return ControlResponse.Success(request.Json ? Json(leds) : Table(leds));
        }
    }

    private static string Table(LedController leds)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"night mode: {(leds.AllOff ? "on (all LEDs off)" : "off")}");
        var list = leds.Leds;
        if (list.Count == 0) sb.AppendLine("no LEDs configured");
        foreach (var l in list)
            sb.AppendLine($"{l.Name,-12} {(l.Lit ? "on " : "off")}  trigger {l.Trigger,-20} line {l.Line}{(l.Error is null ? "" : $"  error: {l.Error}")}");
        return sb.ToString();
    }

    private static string Json(LedController leds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteBoolean("nightMode", leds.AllOff);
            w.WriteStartArray("leds");
            foreach (var l in leds.Leds)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("line", l.Line);
                w.WriteString("trigger", l.Trigger);
                w.WriteBoolean("on", l.Lit);
                w.WriteBoolean("triggerOn", l.TriggerOn);
                if (l.Error is null) w.WriteNull("error");
                else w.WriteString("error", l.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
