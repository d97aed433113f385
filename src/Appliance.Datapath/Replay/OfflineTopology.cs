using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Replay;

/// <summary>The appliance's shape built from a config without touching the network, for replay: the same
/// <see cref="ProgramSet"/> (objects loaded, verified, maps filled with the config's initial contents), the same
/// <see cref="PortRuntime"/>/<see cref="PairRuntime"/> objects with their chains and classifiers, in engine port
/// order. What only a running board knows is made up, predictably: ports get ifindex 2, 3, ... in config order, the
/// pairs' primary ends follow them, each tenant's interface is ifindex 2 of its namespace; a port or primary end
/// without a configured MAC gets 02:00:00:00:fe:NN / 02:00:00:00:fd:NN; a tenant without a configured MAC is
/// learned from the first frame it sends. Every pair has carrier.</summary>
public sealed class OfflineTopology
{
    public const int FirstIfindex = 2, TenantIfindex = 2;

    public ApplianceConfig Config { get; }
    public ProgramSet Programs { get; }
    public RuntimeTopology Topology { get; }

    private OfflineTopology(ApplianceConfig config, ProgramSet programs, RuntimeTopology topology)
    {
        Config = config;
        Programs = programs;
        Topology = topology;
    }

    /// <param name="configDirectory">Program object paths are relative to it.</param>
    /// <param name="objectDirectory">When set, objects are looked up by file name there instead.</param>
    public static OfflineTopology Build(ApplianceConfig config, string configDirectory, string? objectDirectory = null)
    {
        var programs = ProgramSet.Load(config.Programs, configDirectory, objectDirectory);
        var portIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < config.Ports.Count; i++) portIndex[config.Ports[i].Name] = i;
        var pairs = new PairRuntime[config.Pairs.Count];
        for (int i = 0; i < pairs.Length; i++)
        {
            var pc = config.Pairs[i];
            if (!portIndex.TryGetValue(pc.Uplink, out int uplink))
                throw new RuntimeSetupException($"pair '{pc.Name}': uplink '{pc.Uplink}' is not one of the ports");
            var pair = new PairRuntime(config.Ports.Count + i, pc, uplink)
            {
                PrimaryIfindex = FirstIfindex + config.Ports.Count + i,
                PrimaryMac = Synthetic(0xfd, i),
                TenantIfindex = TenantIfindex,
                TenantMac = pc.Tenant.Mac ?? default,
                CarrierUp = true,
            };
            programs.BuildChains(pair);
            pairs[i] = pair;
        }
        var ports = new PortRuntime[config.Ports.Count];
        var portMacs = config.Ports.Select((pc, i) => pc.Mac ?? Synthetic(0xfe, i)).ToArray();
        for (int i = 0; i < ports.Length; i++)
        {
            var classifier = PortRuntime.BuildClassifier(i, pairs, portMacs);
            int[] indices = [.. classifier.FloodTargets];
            ports[i] = new PortRuntime(i, config.Ports[i], FirstIfindex + i, portMacs[i], indices, classifier)
            {
                L3Prefixes = PortRuntime.BuildL3Prefixes(i, pairs),
            };
        }
        return new OfflineTopology(config, programs, new RuntimeTopology(ports, pairs));
    }

    private static MacAddress Synthetic(byte kind, int index) =>
        MacAddress.Read([0x02, 0, 0, 0, kind, (byte)index]);
}
