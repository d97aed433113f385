using System.Globalization;
using System.Text.RegularExpressions;

namespace Appliance.Host.Tests.Board;

/// <summary>One qemu-virt board booted from the built image through U-Boot, shared by the tests of a class
/// (a TCG boot costs seconds). Records the host-side boot timings. With extra kernel arguments it boots a
/// private copy of the image whose extlinux.conf carries them.</summary>
public abstract class BootedBoardBase : IDisposable
{
    private readonly string? _copyDir;

    public QemuBoard Board { get; }
    public BuiltBoardImage Image { get; }

    /// <summary>Host wall time from starting QEMU to U-Boot's "Starting kernel".</summary>
    public TimeSpan ToKernel { get; }

    /// <summary>Host wall time from starting QEMU to the init's READY marker (appliance checked and started).</summary>
    public TimeSpan ToReady { get; }

    /// <summary>Guest uptime (s) printed in the READY marker.</summary>
    public double GuestUptimeAtReady { get; }

    /// <param name="editBoot">changes to the FAT partition of a private copy of the image (null: boot the image as built).</param>
    protected BootedBoardBase(string? extraKernelArgs, Action<FatPartition>? editBoot = null)
    {
        Image = BuiltBoardImage.Instance;
        var image = Image.SdCard;
        if (extraKernelArgs is not null || editBoot is not null)
        {
            _copyDir = Directory.CreateTempSubdirectory("mapp-board-copy-").FullName;
            image = Image.CopyTo(_copyDir);
            var fat = new FatPartition(image);
            if (extraKernelArgs is not null)
            {
                var extlinux = fat.ReadText("/extlinux/extlinux.conf");
                fat.WriteText("/extlinux/extlinux.conf", Regex.Replace(extlinux, @"(?m)^(\s*append .*?)\s*$", $"$1 {extraKernelArgs}"));
            }
            editBoot?.Invoke(fat);
        }
        Board = new QemuBoard(image, Image.UBootEnvironment);
        try
        {
            Board.Console.WaitFor("Starting kernel", TimeSpan.FromSeconds(90));
            ToKernel = Board.SinceStart;
            var ready = Board.Console.WaitFor(@"^MAPP: READY uptime=(\d+\.\d+) s", TimeSpan.FromSeconds(180));
            ToReady = Board.SinceStart;
            GuestUptimeAtReady = double.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Waits until the appliance logs that it forwards (the datapath is up on the ports); returns the match.</summary>
    public Match WaitForForwarding() =>
        Board.Console.WaitFor(@"runtime: forwarding ports=\d+ pairs=\d+|meta-appliance: forwarding \(\d+ ports?, \d+ pairs?\)", TimeSpan.FromSeconds(150));

    public string Timings => $"QEMU start -> 'Starting kernel' {ToKernel.TotalSeconds:0.00} s, -> READY {ToReady.TotalSeconds:0.00} s (guest uptime {GuestUptimeAtReady:0.00} s)";

    public void Dispose()
    {
        Board.Dispose();
        if (_copyDir is not null && Directory.Exists(_copyDir)) Directory.Delete(_copyDir, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The board as a user flashes it: the example config, the appliance service running.</summary>
public sealed class BootedBoard() : BootedBoardBase(null);

/// <summary>The board with `appliance.service=off`: the ports are free for the bridge and `forward` checks.</summary>
public sealed class BootedBoardWithoutService() : BootedBoardBase("appliance.service=off");

/// <summary>The board with a failsafe button on PL061 line 6 (active-high: QEMU drives the line high while "pressed"),
/// added to the example config on a private copy of the image (a long press switches the board to another config).
/// The example config has no button: System.Device.Gpio's libgpiod v1 driver watches an input line by waking every
/// 50 ms (gpiod_line_event_wait with a 50 ms timeout), which the idle board cannot afford.</summary>
public sealed class BootedBoardForButton() : BootedBoardBase(null, fat =>
{
    var config = fat.ReadText("/config.json");
    if (!config.Contains("\"leds\": {")) throw new InvalidOperationException("the example config has no \"leds\" section to put the button before");
    fat.WriteText("/config.json", config.Replace("\"leds\": {", "\"button\": { \"chip\": \"9030000.pl061\", \"line\": 6, \"activeLow\": false },\n  \"leds\": {"));
});

/// <summary>The example config without its `memory` member (the board's defaults), on a private copy of the image.</summary>
public sealed class BootedBoardWithDefaultMemory() : BootedBoardBase(null, fat =>
{
    var config = fat.ReadText("/config.json");
    var memory = Regex.Match(config, @"(?m)^\s*""memory"": \{[^}]*\},\s*\n");
    if (!memory.Success) throw new InvalidOperationException("the example config has no \"memory\" line to take out");
    fat.WriteText("/config.json", config.Remove(memory.Index, memory.Length));
});
