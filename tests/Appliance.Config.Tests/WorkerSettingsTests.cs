namespace Appliance.Config.Tests;

/// <summary>How many forwarding workers a config runs (`workers`, the board's choice, the online cores).</summary>
public class WorkerSettingsTests
{
    [Theory]
    [InlineData(null, "qemu-virt", 4, 4)]   // the emulated board: every core QEMU gives it
    [InlineData(null, "my-pc", 2, 2)]       // a PC: every online core
    [InlineData(null, "rpi4", 4, 4)]        // a 4-core board profile chooses 4
    [InlineData(null, "rpi4", 2, 2)]        // ... but never more than the cores online
    [InlineData(3, "my-pc", 8, 3)]          // the config's count
    [InlineData(8, "my-pc", 2, 2)]          // capped at the online cores
    [InlineData(1, "rpi4", 4, 1)]           // the config wins over the board
    [InlineData(null, "my-pc", 200, 64)]    // at most 64 (one XSKMAP slot per queue)
    public void ResolvesTheWorkerCount(int? configured, string board, int cores, int expected) =>
        Assert.Equal(expected, WorkerSettings.Resolve(configured, board, cores));

    [Fact]
    public void TheCountRoundTripsAndAChangeIsNotedForTheNextStart()
    {
        var a = ConfigTexts.Load(ConfigTexts.Valid).Config!;
        var loaded = ConfigTexts.Load(ConfigTexts.With("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"workers\": 2,"));
        Assert.Empty(loaded.Errors);
        var b = loaded.Config!;
        Assert.Equal(2, b.Workers);
        Assert.Null(a.Workers);
        Assert.True(ConfigDiff.Compute(a, b).WorkersChanged);
        Assert.False(ConfigDiff.Compute(b, b with { }).WorkersChanged);
        Assert.False(ConfigDiff.Compute(a, b).IsEmpty);
    }
}
