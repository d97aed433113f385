namespace Appliance.Host.Leds;

/// <summary>Where an LED is wired: a GPIO line (<see cref="GpioLineAddress"/>) or a kernel LED
/// under /sys/class/leds (<see cref="KernelLedAddress"/>).</summary>
public abstract record LedLineAddress;
