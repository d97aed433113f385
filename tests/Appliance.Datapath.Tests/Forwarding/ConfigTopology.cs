using Appliance.Config;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>The offline topology of a config text (<see cref="OfflineTopology"/>), for the forwarding tests that turn
/// frames through it without a kernel: the config must load.</summary>
internal static class ConfigTopology
{
    /// <param name="objects">Where its program objects are (<see cref="TestObjects.Directory"/> when it names any).</param>
    public static RuntimeTopology From(string json, string objects = ".")
    {
        var loaded = ConfigLoader.LoadBytes(System.Text.Encoding.UTF8.GetBytes(json), "test.json", objects);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        return OfflineTopology.Build(loaded.Config!, objects, objects).Topology;
    }
}
