using System.Text.Json;
using Appliance.Config;
using Appliance.Datapath.Runtime;

namespace Appliance.Host.Control;

/// <summary>`reload` / SIGHUP: re-reads the config file, validates it in full, and applies the part a running
/// appliance can change in place — the pairs' program chains, each swapped atomically as one bpf_mprog revision, and
/// the LEDs (handed to <c>applyLeds</c>). Any other difference (ports, pairs, programs) is refused with the list of what differs, and the running
/// config stays; an invalid file is refused with its errors.</summary>
public sealed class ConfigReload(string file, string? objectDirectory, ApplianceRuntime runtime, Action<LedSettings>? applyLeds = null)
{
    private readonly object _gate = new();
    private string _leds = LedsJson(runtime.Config.Leds);

    public ControlResponse Apply()
    {
        lock (_gate)
        {
            var loaded = ConfigLoader.LoadFile(file, new ConfigLoadOptions { ProgramObjects = FileExistenceInspector.Instance, ObjectDirectory = objectDirectory });
            if (!loaded.IsValid)
                return ControlResponse.Failure($"{file} is not valid, the running config stays:\n" + string.Join("\n", loaded.Errors));
            var next = loaded.Config!;
            var running = runtime.Config;
            var differs = Differences(WithoutChains(running), WithoutChains(next));
            if (differs.Count > 0)
                return ControlResponse.Failure($"only program chains change while running; restart for changes to: {string.Join(", ", differs)}");
            int changed = 0;
            foreach (var pc in next.Pairs)
            {
                var pair = runtime.FindPair(pc.Name);
                changed += Swap(pair.Primary, pc.Primary) + Swap(pair.Peer, pc.Peer);
            }
            var leds = LedsJson(next.Leds);
            var ledsChanged = leds != _leds;
            if (ledsChanged)
            {
                applyLeds?.Invoke(next.Leds);
                _leds = leds;
            }
            if (changed == 0 && !ledsChanged) return ControlResponse.Success("reloaded: no changes");
            return ControlResponse.Success($"reloaded: {changed} chain(s) swapped" + (ledsChanged ? ", LEDs re-applied" : ""));
        }
    }

    private int Swap(PairSide side, PairSideConfig config)
    {
        var wanted = config.Chain.Select(c => c.Program).ToArray();
        if (side.Chain.Programs.Select(p => p.Name).SequenceEqual(wanted)) return 0;
        side.Chain.Set(wanted.Select(n => runtime.Programs[n]).ToArray());
        return 1;
    }

    private static ApplianceConfig WithoutChains(ApplianceConfig c) => c with
    {
        Pairs = c.Pairs.Select(p => p with
        {
            Primary = p.Primary with { Chain = [] },
            Peer = p.Peer with { Chain = [] },
        }).ToArray(),
    };

    /// <summary>Top-level members whose JSON differs.</summary>
    private static List<string> Differences(ApplianceConfig a, ApplianceConfig b)
    {
        var ja = JsonSerializer.SerializeToElement(a, ConfigJsonContext.Default.ApplianceConfig);
        var jb = JsonSerializer.SerializeToElement(b, ConfigJsonContext.Default.ApplianceConfig);
        var names = ja.EnumerateObject().Select(p => p.Name).Union(jb.EnumerateObject().Select(p => p.Name));
        return names.Where(n => n is not "$schema" and not "leds" && Text(ja, n) != Text(jb, n)).ToList();
    }

    private static string LedsJson(LedSettings leds) => JsonSerializer.Serialize(leds, ConfigJsonContext.Default.LedSettings);

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetRawText() : "";
}
