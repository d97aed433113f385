namespace Appliance.Host.Leds;

/// <summary>One LED as the `leds` verb and the control socket show it: name, wiring, trigger, what the
/// trigger wants (<see cref="TriggerOn"/>), what is driven (<see cref="Lit"/>; differs in night mode), and
/// the last hardware error, if any.</summary>
public sealed record LedStatus(string Name, string Line, string Trigger, bool TriggerOn, bool Lit, string? Error);
