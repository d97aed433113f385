namespace Appliance.Host.Leds.Backends;

/// <summary>One level written to a line of the in-memory backend: chip label, line offset, physical level,
/// and when (on the backend's clock). The first entry of a line is the level it was opened with.</summary>
public readonly record struct GpioTransition(string Chip, int Offset, bool High, TimeSpan At)
{
    public override string ToString() => $"{At.TotalMilliseconds}ms {Chip}:{Offset}={(High ? 1 : 0)}";
}
