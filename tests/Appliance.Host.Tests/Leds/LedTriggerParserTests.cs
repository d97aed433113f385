using Appliance.Host.Leds.Triggers;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Leds;

public sealed class LedTriggerParserTests
{
    [Theory]
    [InlineData("status", typeof(StatusTrigger))]
    [InlineData("heartbeat", typeof(HeartbeatTrigger))]
    [InlineData("link:eth0", typeof(LinkTrigger))]
    [InlineData("activity:tenant-a", typeof(ActivityTrigger))]
    [InlineData("fault", typeof(FaultTrigger))]
    [InlineData("on", typeof(ConstantTrigger))]
    [InlineData("off", typeof(ConstantTrigger))]
    public void Every_documented_trigger_parses_and_keeps_its_name(string text, Type kind)
    {
        var trigger = LedTriggerParser.Parse(text, new ApplianceState());
        Assert.IsType(kind, trigger);
        Assert.Equal(text, trigger.Name);
        Assert.Null(LedTriggerParser.Validate(text));
    }

    [Theory]
    [InlineData("blink", "unknown LED trigger \"blink\"")]
    [InlineData("link", "needs a port or pair name")]
    [InlineData("activity:", "needs a port or pair name")]
    [InlineData("status:eth0", "takes no argument")]
    public void Invalid_triggers_say_why(string text, string expected)
    {
        Assert.Contains(expected, LedTriggerParser.Validate(text));
        Assert.Throws<FormatException>(() => LedTriggerParser.Parse(text, new ApplianceState()));
    }
}
