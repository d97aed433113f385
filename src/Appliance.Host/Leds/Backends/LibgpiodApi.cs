namespace Appliance.Host.Leds.Backends;

/// <summary>Which libgpiod ABI System.Device.Gpio talks to: v1 (libgpiod 1.1–1.6, `libgpiod.so.2`,
/// <c>LibGpiodDriver</c>) or v2 (libgpiod 2.x, `libgpiod.so.3`, <c>LibGpiodV2Driver</c>). Auto picks
/// by which library is installed.</summary>
public enum LibgpiodApi
{
    Auto,
    V1,
    V2,
}
