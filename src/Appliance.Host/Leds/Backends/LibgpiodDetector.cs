using System.Runtime.InteropServices;

namespace Appliance.Host.Leds.Backends;

/// <summary>Finds out which libgpiod is installed by loading it (the same lookup System.Device.Gpio's
/// P/Invokes do). We choose the driver ourselves because the library's own auto-selection throws a
/// GpiodException instead of falling back when a chip exists but libgpiod does not (board.md §6.4 bug 1).</summary>
public static class LibgpiodDetector
{
    /// <summary>The sonames per ABI, in the order System.Device.Gpio tries them.</summary>
    public static readonly string[] V1Sonames = ["libgpiod.so.2", "libgpiod.so.1"];
    public static readonly string[] V2Sonames = ["libgpiod.so.3"];

    /// <summary>The ABI to use and the soname that was found. v2 wins when both are installed (it is the
    /// maintained API); <paramref name="wanted"/> forces one. Throws <see cref="LedHardwareException"/>
    /// saying what to install when none is present.</summary>
    public static (LibgpiodApi Api, string Soname) Detect(LibgpiodApi wanted = LibgpiodApi.Auto)
    {
        if (wanted is LibgpiodApi.Auto or LibgpiodApi.V2 && FirstLoadable(V2Sonames) is { } v2) return (LibgpiodApi.V2, v2);
        if (wanted is LibgpiodApi.Auto or LibgpiodApi.V1 && FirstLoadable(V1Sonames) is { } v1) return (LibgpiodApi.V1, v1);
        var tried = wanted switch
        {
            LibgpiodApi.V1 => V1Sonames,
            LibgpiodApi.V2 => V2Sonames,
            _ => [.. V2Sonames, .. V1Sonames],
        };
        throw new LedHardwareException(
            $"GPIO LEDs need libgpiod, but none of {string.Join(", ", tried)} could be loaded. " +
            "Install libgpiod (Debian: libgpiod2 for v1, libgpiod3 for v2) into the image, or describe the LEDs as kernel LEDs (/sys/class/leds).");
    }

    private static string? FirstLoadable(string[] sonames)
    {
        foreach (var name in sonames)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            NativeLibrary.Free(handle);
            return name;
        }
        return null;
    }
}
