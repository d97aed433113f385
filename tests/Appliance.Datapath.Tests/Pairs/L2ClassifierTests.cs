using Appliance.Datapath.Pairs;
using Xunit;
using Appliance.Config;

namespace Appliance.Datapath.Tests.Pairs;

public sealed class L2ClassifierTests
{
    private static byte[] Frame(string dst, string src)
    {
        var f = new byte[60];
        Span<byte> tmp = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(tmp, MacAddress.Parse(dst).Value);
        tmp[2..].CopyTo(f);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(tmp, MacAddress.Parse(src).Value);
        tmp[2..].CopyTo(f.AsSpan(6));
        return f;
    }

    private static L2Classifier Make() => new([0, 1], new Dictionary<int, MacAddress> { [0] = MacAddress.Parse("02:00:00:00:00:0a") });

    [Fact]
    public void ConfiguredMacSelectsItsPair()
    {
        Assert.Equal(ClassifyKind.Pair, Make().Classify(Frame("02:00:00:00:00:0a", "02:99:00:00:00:01"), out int pair));
        Assert.Equal(0, pair);
    }

    [Fact]
    public void BroadcastAndMulticastFloodToEveryPair()
    {
        var c = Make();
        Assert.Equal(ClassifyKind.Flood, c.Classify(Frame("ff:ff:ff:ff:ff:ff", "02:99:00:00:00:01"), out _));
        Assert.Equal(ClassifyKind.Flood, c.Classify(Frame("33:33:00:00:00:01", "02:99:00:00:00:01"), out _));
        Assert.Equal([0, 1], c.FloodTargets.ToArray());
    }

    [Fact]
    public void UnknownUnicastIsUnclaimedUntilLearned()
    {
        var c = Make();
        var toB = Frame("02:00:00:00:00:0b", "02:99:00:00:00:01");
        Assert.Equal(ClassifyKind.Unclaimed, c.Classify(toB, out _));
        Assert.Equal(LearnResult.Learned, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b")));
        Assert.Equal(LearnResult.Known, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b")));
        Assert.Equal(ClassifyKind.Pair, c.Classify(toB, out int pair));
        Assert.Equal(1, pair);
    }

    [Fact]
    public void ATenantCannotStealAnotherTenantsMac()
    {
        var c = Make();
        Assert.Equal(LearnResult.OwnedByAnother, c.Learn(1, Frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0a")));
        c.Classify(Frame("02:00:00:00:00:0a", "02:99:00:00:00:01"), out int pair);
        Assert.Equal(0, pair);
    }

    [Fact]
    public void RuntFramesAreUnclaimed() => Assert.Equal(ClassifyKind.Unclaimed, Make().Classify(new byte[13], out _));

    [Fact]
    public void GroupSourcesAreNeverLearned() => Assert.Equal(LearnResult.Ignored, Make().Learn(1, Frame("02:00:00:00:00:0a", "01:00:5e:00:00:01")));

    [Theory]
    [InlineData("02:00:00:00:00:0a", "02:00:00:00:00:0a")]
    [InlineData("AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff")]
    public void MacRoundTrips(string text, string expected) => Assert.Equal(expected, MacAddress.Parse(text).ToString());
}
