namespace Appliance.Host.Leds;

/// <summary>An LED line could not be found or driven: says which line, what went wrong and what to check.</summary>
public sealed class LedHardwareException(string message, Exception? inner = null) : Exception(message, inner);
