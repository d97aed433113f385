namespace Appliance.Host.Leds;

/// <summary>A kernel LED (/sys/class/leds/NAME): sets its trigger to "none" so the kernel stops driving it,
/// then writes `brightness` (max_brightness for on, 0 for off). Written directly rather than through
/// Iot.Device.Bindings' BoardLed, which locks the files exclusively and cannot pick the last trigger in
/// the list (board.md §6.4 bugs 2 and 3).</summary>
public sealed class SysfsLedLine : ILedLine
{
    private readonly string _brightnessPath;
    private readonly string _onValue;

    /// <param name="classDirectory">/sys/class/leds (a temporary directory in tests).</param>
    public SysfsLedLine(string classDirectory, KernelLedAddress address)
    {
        var dir = Path.Combine(classDirectory, address.Name);
        Description = address.ToString();
        _brightnessPath = Path.Combine(dir, "brightness");
        if (!File.Exists(_brightnessPath))
            throw new LedHardwareException(
                $"LED {address}: {_brightnessPath} does not exist. Kernel LEDs come from a DT gpio-leds node (and the leds-gpio module); " +
                $"present: {Present(classDirectory)}.");
        var maxPath = Path.Combine(dir, "max_brightness");
        _onValue = File.Exists(maxPath) && int.TryParse(File.ReadAllText(maxPath).Trim(), out var max) && max > 0 ? max.ToString() : "1";
        var triggerPath = Path.Combine(dir, "trigger");
        try
        {
            if (File.Exists(triggerPath)) File.WriteAllText(triggerPath, "none");
            Write("0");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedHardwareException($"LED {address}: writing {dir} failed ({e.Message}); the appliance must run as root.", e);
        }
    }

    public string Description { get; }

    public void Set(bool on) => Write(on ? _onValue : "0");

    private void Write(string value) => File.WriteAllText(_brightnessPath, value);

    private static string Present(string classDirectory)
    {
        if (!Directory.Exists(classDirectory)) return $"{classDirectory} is missing";
        var names = Directory.EnumerateFileSystemEntries(classDirectory).Select(Path.GetFileName).Order().ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    public void Dispose() { }
}
