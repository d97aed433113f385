using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>The failsafe button on the emulated board, through the real path: QEMU holds PL061 input line 6 (qtest
/// `set_irq_in`), the guest's gpio-pl061 driver raises edge events on /dev/gpiochip, libgpiod and Iot.Device.Bindings'
/// GpioButton in meta-appliance see a press (examples/qemu-virt.json: `button` = 9030000.pl061 line 6, active-high).
/// A short press explains the status LED on the console; a hold of 5 s or more switches to the last good (or factory)
/// config, says so on the console and turns the status LED (line 0) to the 50/50 ms fallback blink.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardButtonTests(BootedBoardForButton booted, ITestOutputHelper output) : IClassFixture<BootedBoardForButton>
{
    private const int ButtonLine = 6, StatusLed = 0;
    private SerialConsole Console => booted.Board.Console;

    [Fact]
    public void ShortPressExplainsTheStatusLedAndAFiveSecondHoldSwitchesToTheLastGoodConfig()
    {
        Console.WaitFor(@"failsafe button on 9030000\.pl061:6 \(active high\)", TimeSpan.FromSeconds(150));
        booted.Board.Trace.WaitSteady(StatusLed, 1, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(120));

        var from = Console.Length;
        Press(TimeSpan.FromMilliseconds(300));
        // Up to the line's end: a match on a half-arrived line would read an empty meaning.
        var shortPress = Console.WaitFor(@"meta-appliance: status LED ([^\r\n]+)\r?\n", TimeSpan.FromSeconds(30), from);
        output.WriteLine($"short press: {shortPress.Value.Trim()}");
        Assert.Contains("steady on: forwarding", shortPress.Groups[1].Value);
        Assert.DoesNotMatch("failsafe button: switched", Console.Text[from..]);

        // Let go for a moment, as a person does (GpioButton ignores a press within its debounce time of a release).
        Thread.Sleep(TimeSpan.FromSeconds(2));
        from = Console.Length;
        var blinksBefore = booted.Board.Trace.Transitions(StatusLed);
        Press(TimeSpan.FromSeconds(6));
        var switched = Console.WaitFor(@"meta-appliance: failsafe button: switched to (config\.(?:last-good|factory)\.json)", TimeSpan.FromSeconds(60), from);
        output.WriteLine($"long press: {switched.Value.Trim()}");
        Assert.DoesNotMatch(@"meta-appliance: status LED ", Console.Text[from..switched.Index]);
        // The status LED now blinks (fallback config): many transitions within a few seconds, not steady on.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (booted.Board.Trace.Transitions(StatusLed) < blinksBefore + 10 && DateTime.UtcNow < deadline) Thread.Sleep(500);
        var blinks = booted.Board.Trace.Transitions(StatusLed) - blinksBefore;
        output.WriteLine($"status LED transitions after the long press: {blinks}");
        Assert.True(blinks >= 10, $"the status LED did not blink after the long press ({blinks} transitions)");
    }

    /// <summary>Holds the button (line high: active-high) for <paramref name="hold"/>, then releases it.</summary>
    private void Press(TimeSpan hold)
    {
        booted.Board.SetGpioInput(ButtonLine, true);
        try
        {
            Thread.Sleep(hold);
        }
        finally
        {
            booted.Board.SetGpioInput(ButtonLine, false);
        }
    }
}
