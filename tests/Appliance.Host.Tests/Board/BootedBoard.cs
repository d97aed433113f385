using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Appliance.Host.Tests.Board;

/// <summary>One qemu-virt board booted from the built image through U-Boot, shared by the tests of a class
/// (a TCG boot costs seconds). Records the host-side boot timings.</summary>
public sealed class BootedBoard : IDisposable
{
    public QemuBoard Board { get; }
    public BuiltBoardImage Image { get; }

    /// <summary>Host wall time from starting QEMU to U-Boot's "Starting kernel".</summary>
    public TimeSpan ToKernel { get; }

    /// <summary>Host wall time from starting QEMU to the init's READY marker (appliance checked and started).</summary>
    public TimeSpan ToReady { get; }

    /// <summary>Guest uptime (s) printed in the READY marker.</summary>
    public double GuestUptimeAtReady { get; }

    public BootedBoard()
    {
        Image = BuiltBoardImage.Instance;
        Board = new QemuBoard(Image.SdCard, Image.UBootEnvironment);
        try
        {
            Board.Console.WaitFor("Starting kernel", TimeSpan.FromSeconds(60));
            ToKernel = Board.SinceStart;
            var ready = Board.Console.WaitFor(@"^MAPP: READY uptime=(\d+\.\d+) s", TimeSpan.FromSeconds(120));
            ToReady = Board.SinceStart;
            GuestUptimeAtReady = double.Parse(ready.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch
        {
            Board.Dispose();
            throw;
        }
    }

    public string Timings => $"QEMU start -> 'Starting kernel' {ToKernel.TotalSeconds:0.00} s, -> READY {ToReady.TotalSeconds:0.00} s (guest uptime {GuestUptimeAtReady:0.00} s)";

    public void Dispose() => Board.Dispose();
}
