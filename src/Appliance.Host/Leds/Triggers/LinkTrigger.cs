using Appliance.Host.State;
namespace Appliance.Host.Leds.Triggers;

/// <summary>`link:NAME`: on while the port or pair has carrier.</summary>
public sealed class LinkTrigger(InterfaceState iface) : ILedTrigger
{
    public string Name { get; } = $"link:{iface.Name}";

    public LedDecision Evaluate(TimeSpan now) => LedDecision.Steady(iface.Carrier);
}
