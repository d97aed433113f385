using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>The fallback boot without U-Boot: the harness takes Image, initrd.gz and the append line out of the
/// image's extlinux.conf and boots them with -kernel, with the image still attached as the disk.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardDirectKernelTests(ITestOutputHelper output)
{
    [Fact]
    public void DirectKernelBootFromTheImageFilesReachesTheAppliance()
    {
        var image = BuiltBoardImage.Instance;
        using var board = new QemuBoard(image.SdCard, image.UBootEnvironment, directKernel: true);
        var ready = board.WaitUntilReady(TimeSpan.FromSeconds(180));
        var text = board.Console.Text;
        Assert.DoesNotContain("U-Boot", text);
        Assert.Contains("MAPP: boot partition /dev/vda1 mounted at /boot", text);
        Assert.Contains("MAPP: config /boot/config.json: valid", text);
        Assert.Matches(@"MAPP: gpio: gpiochip\d+ label=9030000\.pl061", text);
        output.WriteLine($"direct -kernel boot: READY after {ready.TotalSeconds:0.00} s");
        Assert.True(board.PowerOff(TimeSpan.FromSeconds(60)), "the board did not power off cleanly");
        Assert.Contains("MAPP: POWEROFF", board.Console.Text);
    }
}
