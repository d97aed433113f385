using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Host.Commands;
using Appliance.Host.Control;
using Appliance.Host.Leds;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Capture;

namespace Appliance.Host.Metrics;

/// <summary>The appliance's state in the Prometheus text exposition format (version 0.0.4), the same for
/// <c>GET /metrics</c> and `stats --prometheus`: build info, uptime, config generation and the last reload; per port
/// (and pair primary end) the engine's packets, bytes and drops by reason; per pair carrier and per side what
/// `stats --json` shows (in, out, tx_dropped, drops by reason); per program runs, bytes, verdicts and faults; the
/// forwarding workers' loop counters (summed) and each worker's share (label `worker`); each LED and night mode. Counter values are the very counters `stats --json`
/// reads. Built on the caller's thread (never the datapath's), one string per scrape.</summary>
public sealed class PrometheusExposition(ApplianceRuntime runtime, ReloadHistory? reloads, LedController? leds)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private const string P = "meta_appliance_";

    public string Render()
    {
        var w = new Writer();
        var t = runtime.Topology;
        w.Family("build_info", "gauge", "Version, architecture and runtime of the running binary.");
        w.Sample("build_info", 1, ("version", VersionCommand.Version), ("arch", RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()),
            ("runtime", RuntimeInformation.FrameworkDescription));
        w.Family("uptime_seconds", "gauge", "Seconds since the datapath started.");
        w.Sample("uptime_seconds", (long)(DateTime.UtcNow - runtime.StartedUtc).TotalSeconds);
        w.Family("netlink_dumps_restarted_total", "counter", "Netlink dumps (links, addresses, routes) the kernel marked interrupted by a change and the appliance took again.");
        w.Sample("netlink_dumps_restarted_total", Appliance.Interop.NetlinkSocket.DumpsRestarted);
        if (reloads is not null)
        {
            var (generation, lastOk, lastUtc) = reloads.Read();
            w.Family("config_generation", "gauge", "1 at start, one more per successful reload.");
            w.Sample("config_generation", generation);
            w.Family("last_reload_success", "gauge", "1 when the last reload applied, 0 when it was refused; absent before the first.");
            if (lastOk is { } ok) w.Sample("last_reload_success", ok ? 1 : 0);
            w.Family("last_reload_timestamp_seconds", "gauge", "Unix time of the last reload (0: none yet).");
            w.Sample("last_reload_timestamp_seconds", lastOk is null ? 0 : (long)(lastUtc - DateTime.UnixEpoch).TotalSeconds);
        }

        w.Family("not_running", "gauge", "1 for each pair or port of the running config that is not running (a failed reload's undo left it out; a reload makes it again).");
        foreach (var part in runtime.NotRunning) w.Sample("not_running", 1, ("kind", part.Kind), ("name", part.Name));

        var ports = t.Ports.Select(p => (p.Name, Kind: "port", Counters: runtime.Engine.CountersOf(p.Index), Port: (PortRuntime?)p, Engine: p.Index))
            .Concat(t.Pairs.Select(p => (p.Name, Kind: "primary-end", Counters: runtime.Engine.CountersOf(p.PrimaryPort), Port: (PortRuntime?)null, Engine: p.PrimaryPort)))
            .ToList();
        PortCounter(w, ports, "port_rx_packets_total", "Frames received.", c => c.RxPackets);
        PortCounter(w, ports, "port_rx_bytes_total", "Bytes received.", c => c.RxBytes);
        PortCounter(w, ports, "port_tx_packets_total", "Frames transmitted.", c => c.TxPackets);
        PortCounter(w, ports, "port_tx_bytes_total", "Bytes transmitted.", c => c.TxBytes);
        w.Family("port_drops_total", "counter", "Received frames the engine dropped, by reason.");
        foreach (var p in ports)
            foreach (var r in Enum.GetValues<DropReason>())
                w.Sample("port_drops_total", p.Counters.Drops(r), ("port", p.Name), ("kind", p.Kind), ("reason", DecisionText.Camel(r.ToString())));
        // The kernel's counters of the port's AF_XDP sockets (XDP_STATISTICS, summed over its queues), under the kernel's names.
        var kernel = ports.Select(p => runtime.Engine.KernelStatisticsOf(p.Engine)).ToList();
        foreach (var (_, metric, help, value) in SocketCounters.All)
        {
            w.Family(metric, "counter", help);
            for (int i = 0; i < ports.Count; i++) w.Sample(metric, (long)value(kernel[i]), ("port", ports[i].Name), ("kind", ports[i].Kind));
        }
        w.Family("port_unclaimed_total", "counter", "Unicast frames that reached AF_XDP but matched no pair.");
        foreach (var p in ports) if (p.Port is { } port) w.Sample("port_unclaimed_total", port.Unclaimed, ("port", p.Name));
        w.Family("port_flooded_total", "counter", "Copies of group frames sent into the port's pairs.");
        foreach (var p in ports) if (p.Port is { } port) w.Sample("port_flooded_total", port.Flooded, ("port", p.Name));
        w.Family("port_proxied_total", "counter", "ARP requests and neighbour solicitations answered for L3 tenants (proxy ARP/ND).");
        foreach (var p in ports) if (p.Port is { } port) w.Sample("port_proxied_total", port.Proxied, ("port", p.Name));
        w.Family("port_l3_prefixes", "gauge", "L3 tenants' prefixes in the port's XDP prefix maps.");
        foreach (var p in ports) if (p.Port?.Steering is { } s) w.Sample("port_l3_prefixes", s.L3PrefixCount, ("port", p.Name));
        w.Family("port_l3_board_addresses", "gauge", "The board's own addresses inside an L3 tenant's prefix, left to the kernel.");
        foreach (var p in ports) if (p.Port?.Steering is { } s) w.Sample("port_l3_board_addresses", s.L3BoardAddressCount, ("port", p.Name));
        w.Family("port_l3_left_out", "gauge", "Prefixes and board addresses that did not fit the port's XDP prefix maps (0 normally).");
        foreach (var p in ports) if (p.Port?.Steering is { } s) w.Sample("port_l3_left_out", s.L3LeftOut, ("port", p.Name));
        w.Family("port_up", "gauge", "1 while the interface is there, 0 after it went away.");
        foreach (var p in ports) w.Sample("port_up", runtime.Engine.PortAt(p.Engine).IsDown ? 0 : 1, ("port", p.Name), ("kind", p.Kind));

        w.Family("pair_carrier", "gauge", "1 while both ends of the pair are up.");
        foreach (var p in t.Pairs) w.Sample("pair_carrier", p.CarrierUp ? 1 : 0, ("pair", p.Name));
        var sides = t.Pairs.SelectMany(p => new[] { (Pair: p.Name, Side: "primary", S: p.Primary), (Pair: p.Name, Side: "peer", S: p.Peer) }).ToList();
        SideCounter(w, sides, "pair_side_rx_packets_total", "Frames that entered the side.", c => c.RxPackets);
        SideCounter(w, sides, "pair_side_rx_bytes_total", "Bytes that entered the side.", c => c.RxBytes);
        SideCounter(w, sides, "pair_side_tx_packets_total", "Frames the side passed on.", c => c.TxPackets);
        SideCounter(w, sides, "pair_side_tx_bytes_total", "Bytes the side passed on.", c => c.TxBytes);
        SideCounter(w, sides, "pair_side_tx_dropped_total", "Frames the side dropped (netkit's tx_dropped).", c => c.TxDropped);
        w.Family("pair_side_drops_total", "counter", "Frames the side dropped, by reason.");
        foreach (var s in sides)
            foreach (var r in Enum.GetValues<PairDropReason>())
                w.Sample("pair_side_drops_total", s.S.Counters.Drops(r), ("pair", s.Pair), ("side", s.Side), ("reason", DecisionText.Camel(r.ToString())));
        w.Family("pair_side_chain_revision", "gauge", "The side's bpf_mprog chain revision.");
        foreach (var s in sides) w.Sample("pair_side_chain_revision", s.S.Chain.Revision, ("pair", s.Pair), ("side", s.Side));

        var programs = runtime.Programs.Programs.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        w.Family("program_runs_total", "counter", "Times the program ran.");
        foreach (var p in programs) w.Sample("program_runs_total", p.Counters.Runs, ("program", p.Name));
        w.Family("program_bytes_total", "counter", "Bytes of the frames the program ran on.");
        foreach (var p in programs) w.Sample("program_bytes_total", p.Counters.Bytes, ("program", p.Name));
        w.Family("program_verdicts_total", "counter", "How the program's runs ended, by netkit verdict.");
        foreach (var p in programs)
        {
            var c = p.Counters;
            foreach (var (verdict, value) in new[] { ("pass", c.Pass), ("next", c.Next), ("drop", c.Drop), ("redirect", c.Redirect), ("unknown", c.Unknown) })
                w.Sample("program_verdicts_total", value, ("program", p.Name), ("verdict", verdict));
        }
        w.Family("program_faults_total", "counter", "Runs stopped by a fault (the frame was dropped).");
        foreach (var p in programs) w.Sample("program_faults_total", p.Counters.Faults, ("program", p.Name));

        var e = runtime.Engine;
        w.Family("worker_running", "gauge", "1 while the forwarding worker runs.");
        w.Sample("worker_running", e.IsRunning ? 1 : 0);
        w.Family("worker_loops_total", "counter", "Forwarding worker loops (each serves every port once).");
        w.Sample("worker_loops_total", e.Loops);
        w.Family("worker_polls_total", "counter", "Times the idle forwarding worker slept in poll().");
        w.Sample("worker_polls_total", e.Polls);
        w.Family("worker_allocated_bytes", "gauge", "Bytes the forwarding worker thread has allocated (0 growth is the goal).");
        w.Sample("worker_allocated_bytes", e.WorkerAllocatedBytes);
        PerWorker(w, e);

        if (leds is not null)
        {
            w.Family("led_on", "gauge", "1 while the LED is lit.");
            foreach (var l in leds.Leds) w.Sample("led_on", l.Lit ? 1 : 0, ("led", l.Name), ("trigger", l.Trigger));
            w.Family("leds_night_mode", "gauge", "1 while night mode keeps every LED dark.");
            w.Sample("leds_night_mode", leds.AllOff ? 1 : 0);
        }
        return w.ToString();
    }

    /// <summary>Each forwarding worker's share, labelled `worker` (what `stats --json` shows under `workers`), in families
    /// of their own: the sums above keep their names and label sets, so a sum over a family never counts a frame twice.</summary>
    private static void PerWorker(Writer w, ForwardingEngine e)
    {
        int[] workers = [.. Enumerable.Range(0, e.WorkerCount)];
        var sockets = workers.Select(e.CountersOfWorker).ToArray();
        var handOff = workers.Select(e.HandOffCountersOf).ToArray();
        static string Id(int n) => n.ToString(CultureInfo.InvariantCulture);
        void Family(string name, string type, string help, Func<int, long> value)
        {
            w.Family(name, type, help);
            foreach (int k in workers) w.Sample(name, value(k), ("worker", Id(k)));
        }
        w.Family("worker_info", "gauge", "1 per forwarding worker; cpu: the CPU it is pinned to (none: not pinned).");
        foreach (int k in workers) w.Sample("worker_info", 1, ("worker", Id(k)), ("cpu", e.CpuOf(k) is int cpu ? Id(cpu) : "none"));
        Family("worker_queues", "gauge", "AF_XDP sockets (interface RX queues) the worker serves.", k => e.PortsOf(k).Count);
        Family("worker_rx_packets_total", "counter", "Frames the worker received on its sockets (its share of port_rx_packets_total).", k => sockets[k].RxPackets);
        Family("worker_forwarded_total", "counter", "Frames the worker forwarded from its sockets.", k => sockets[k].Forwarded);
        Family("worker_tx_packets_total", "counter", "Frames the worker transmitted on its sockets.", k => sockets[k].TxPackets);
        Family("worker_drops_total", "counter", "Frames received on the worker's sockets that it dropped (all reasons).", k => sockets[k].TotalDrops);
        Family("worker_handed_off_total", "counter", "Frames the worker handed to another worker (the target interface had no socket on its queue).", e.HandedOffBy);
        Family("worker_taken_over_total", "counter", "Frames other workers handed to this one.", k => handOff[k].RxPackets);
        Family("worker_taken_over_drops_total", "counter", "Frames handed to this worker that it dropped.", k => handOff[k].TotalDrops);
        Family("worker_thread_loops_total", "counter", "The worker's loops (worker_loops_total is their sum).", e.LoopsOf);
        Family("worker_thread_polls_total", "counter", "Times the idle worker slept in poll() (worker_polls_total is their sum).", e.PollsOf);
    }

    private static void PortCounter(Writer w, List<(string Name, string Kind, PortCounters Counters, PortRuntime? Port, int Engine)> ports,
        string name, string help, Func<PortCounters, long> value)
    {
        w.Family(name, "counter", help);
        foreach (var p in ports) w.Sample(name, value(p.Counters), ("port", p.Name), ("kind", p.Kind));
    }

    private static void SideCounter(Writer w, List<(string Pair, string Side, PairSide S)> sides, string name, string help, Func<SideCounters, long> value)
    {
        w.Family(name, "counter", help);
        foreach (var s in sides) w.Sample(name, value(s.S.Counters), ("pair", s.Pair), ("side", s.Side));
    }

    /// <summary># HELP / # TYPE lines and samples with escaped label values.</summary>
    private sealed class Writer
    {
        private readonly StringBuilder _sb = new(8192);

        public void Family(string name, string type, string help) =>
            _sb.Append("# HELP ").Append(P).Append(name).Append(' ').Append(help).Append('\n')
               .Append("# TYPE ").Append(P).Append(name).Append(' ').Append(type).Append('\n');

        public void Sample(string name, long value, params (string Key, string Value)[] labels)
        {
            _sb.Append(P).Append(name);
            if (labels.Length > 0)
            {
                _sb.Append('{');
                for (int i = 0; i < labels.Length; i++)
                {
                    if (i > 0) _sb.Append(',');
                    _sb.Append(labels[i].Key).Append("=\"");
                    foreach (char c in labels[i].Value)
                        _sb.Append(c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ => c.ToString() });
                    _sb.Append('"');
                }
                _sb.Append('}');
            }
            _sb.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        public override string ToString() => _sb.ToString();
    }
}
