using System.Text;
using Appliance.Config;
using System.Text.Json;
using Appliance.Datapath.Capture;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;
using Appliance.Interop;

namespace Appliance.Host.Control;

/// <summary>What `status`, `stats`, `pairs` and `programs` show about a running appliance, as text tables for people
/// or JSON for scripts (written with <see cref="Utf8JsonWriter"/>: no reflection, AOT-safe). A pair or port of the
/// running config that is not running (<see cref="ApplianceRuntime.NotRunning"/>) is in every listing of its kind after
/// the running ones: a text row with the word NOT RUNNING after its name and "-" in the other cells; in JSON an entry with
/// its name, "running": false and "why" (running entries are as they were, without "running").</summary>
public sealed class RuntimeReport(ApplianceRuntime runtime)
{
    private RuntimeTopology T => runtime.Topology;

    public const string NotRunningWord = "NOT RUNNING";

    private IEnumerable<NotRunningPart> NotRunning(string kind) => runtime.NotRunning.Where(p => p.Kind == kind);

    /// <summary>A not-running part's row: its name, NOT RUNNING, "-" in every other cell.</summary>
    private static void NotRunningRow(TextTable t, string name) => t.Row([name, NotRunningWord, .. Enumerable.Repeat("-", t.Columns - 2)]);

    public string Status()
    {
        var sb = new StringBuilder();
        var up = DateTime.UtcNow - runtime.StartedUtc;
        sb.Append($"meta-appliance: forwarding ({T.Ports.Length} ports, {T.Pairs.Length} pairs), up {(int)up.TotalSeconds} s, " +
                  $"worker {(runtime.Engine.IsRunning ? "running" : "STOPPED: " + PrintableText.Escape(runtime.Engine.WorkerFailure?.Message ?? ""))}\n");
        var e = runtime.Engine;
        if (e.LastFault is { } fault)
            sb.Append($"FAULT: worker restarts {e.WorkerRestarts}, frame handler faults {e.HandlerFaults}; last: {PrintableText.Escape(fault.ToString() ?? "")}\n");
        foreach (var part in runtime.NotRunning) sb.Append($"{NotRunningWord}: {PrintableText.Escape(part.ToString())}\n");
        // QUEUES: the RX queues the port's sockets are on (one each), "(configured)" when the config's `queues` set them.
        var ports = new TextTable("PORT", "IFINDEX", "XDP", "UNCLAIMED", "L2 PAIRS", "QUEUES", "STATE");
        foreach (var p in T.Ports)
            ports.Row(p.Name, p.Ifindex, p.SteeringMode?.ToString().ToLowerInvariant() ?? "-", p.Config.Unclaimed.ToString().ToLowerInvariant(),
                p.L2Pairs.Length, e.AllPorts.Count(s => s.Index == p.Index) + (p.Config.Queues is null ? "" : " (configured)"),
                runtime.Engine.PortAt(p.Index).IsDown ? "down" : "up");
        foreach (var p in NotRunning("port")) NotRunningRow(ports, p.Name);
        sb.Append('\n').Append(ports);
        var pairs = new TextTable("PAIR", "TENANT", "MAC", "UPLINK", "CARRIER", "PRIMARY", "PEER");
        foreach (var p in T.Pairs)
            pairs.Row(p.Name, $"{p.Config.Tenant.Netns}/{p.Config.Tenant.Interface}", p.TenantMac, p.Config.Uplink,
                p.CarrierUp ? "up" : "down", SideSummary(p.Primary), SideSummary(p.Peer));
        foreach (var p in NotRunning("pair")) NotRunningRow(pairs, p.Name);
        sb.Append('\n').Append(pairs);
        // The forwarding workers, the CPU each is pinned to and the RX queues (AF_XDP sockets) each one owns.
        sb.Append($"\nworkers: {e.WorkerCount} running (config: {runtime.Workers})\n");
        var workers = new TextTable("WORKER", "CPU", "LOOPS", "SLEEPS", "QUEUES");
        for (int w = 0; w < e.WorkerCount; w++)
            workers.Row(w, e.CpuOf(w)?.ToString() ?? "-", e.LoopsOf(w), e.PollsOf(w), string.Join(" ", e.PortsOf(w).Select(QueueName)));
        sb.Append(workers);
        return sb.ToString();
    }

    private static string SideSummary(PairSide s) =>
        s.Chain.Programs.Length == 0 ? $"policy {s.Policy.ToString().ToLowerInvariant()}" : $"{s.Chain.Programs.Length} program(s) rev {s.Chain.Revision}";

    public string Pairs()
    {
        var t = new TextTable("PAIR", "SIDE", "POLICY", "SCRUB", "REVISION", "CHAIN");
        foreach (var p in T.Pairs)
            foreach (var s in new[] { p.Primary, p.Peer })
                t.Row(p.Name, s.Kind.ToString().ToLowerInvariant(), s.Policy.ToString().ToLowerInvariant(), s.Scrub.ToString().ToLowerInvariant(),
                    s.Chain.Revision, s.Chain.Programs.Length == 0 ? "-" : string.Join(" -> ", s.Chain.Programs.Select(x => x.Name)));
        foreach (var p in NotRunning("pair")) NotRunningRow(t, p.Name);
        return t.ToString();
    }

    public string Programs()
    {
        var t = new TextTable("PROGRAM", "OBJECT", "SECTION", "ENGINE", "INSNS", "RUNS", "PASS", "NEXT", "DROP", "REDIRECT", "UNKNOWN", "FAULTS");
        foreach (var p in runtime.Programs.Programs.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var c = p.Counters;
            t.Row(p.Name, Path.GetFileName(p.Object.Path), p.Config.Section, runtime.EngineOf(p), p.Program.InstructionCount, c.Runs, c.Pass, c.Next, c.Drop,
                c.Redirect, c.Unknown, c.Faults);
        }
        return t.ToString();
    }

    public string Stats()
    {
        var sb = new StringBuilder();
        // KERNEL DROPS: frames the kernel dropped on the port's AF_XDP sockets before a worker saw them (XDP_STATISTICS).
        var ports = new TextTable("PORT", "RX", "RX BYTES", "FWD", "TX", "TX BYTES", "DROPS", "KERNEL DROPS", "UNCLAIMED", "FLOODED");
        foreach (var p in T.Ports)
        {
            var c = runtime.Engine.CountersOf(p.Index);
            ports.Row(p.Name, c.RxPackets, c.RxBytes, c.Forwarded, c.TxPackets, c.TxBytes, EngineDrops(c), KernelDrops(runtime.Engine.KernelStatisticsOf(p.Index)),
                p.Unclaimed, p.Flooded);
        }
        foreach (var p in T.Pairs)
        {
            var c = runtime.Engine.CountersOf(p.PrimaryPort);
            ports.Row(p.Name + " (primary end)", c.RxPackets, c.RxBytes, c.Forwarded, c.TxPackets, c.TxBytes, EngineDrops(c),
                KernelDrops(runtime.Engine.KernelStatisticsOf(p.PrimaryPort)), "-", "-");
        }
        foreach (var p in NotRunning("port")) NotRunningRow(ports, p.Name);
        foreach (var p in NotRunning("pair")) NotRunningRow(ports, p.Name + " (primary end)");
        sb.Append(ports);
        var sides = new TextTable("PAIR", "SIDE", "IN", "IN BYTES", "OUT", "OUT BYTES", "TX_DROPPED", "DROPS BY REASON");
        foreach (var p in T.Pairs)
            foreach (var s in new[] { p.Primary, p.Peer })
            {
                var c = s.Counters;
                sides.Row(p.Name, s.Kind.ToString().ToLowerInvariant(), c.RxPackets, c.RxBytes, c.TxPackets, c.TxBytes, c.TxDropped, SideDrops(c));
            }
        foreach (var p in NotRunning("pair")) NotRunningRow(sides, p.Name);
        var learning = new TextTable("PAIR", "LEARNED NOW", "LIMIT", "LEARNED", "AGED", "MOVED", "REFUSED LIMIT", "REFUSED RESERVED", "REFUSED OWNED",
            "REFUSED OUTSIDE", "CLAIM ERRORS", "DHCP IDS V4/V6", "REFUSED DHCP");
        foreach (var p in T.Pairs)
        {
            var l = p.Learning;
            learning.Row(p.Name, LearnedNow(p), p.Config.LearnLimit, l.Learned, l.Aged, l.Moved, l.RefusedLimit, l.RefusedReserved, l.RefusedOwned,
                l.RefusedOutside, l.ClaimErrors, $"{DhcpIdsNow(p, false)}/{DhcpIdsNow(p, true)} of {p.DhcpClients.Limit}", p.DhcpClients.Refused);
        }
        foreach (var p in NotRunning("pair")) NotRunningRow(learning, p.Name);
        sb.Append('\n').Append(sides).Append('\n').Append(learning).Append('\n').Append(Programs());
        return sb.ToString();
    }

    /// <summary>`stats --per-worker`: each forwarding worker's share of the counters (what `stats` sums), the frames
    /// it handed to other workers and took from them, and each of its sockets.</summary>
    public string PerWorker()
    {
        var e = runtime.Engine;
        var workers = new TextTable("WORKER", "CPU", "RX", "FWD", "TX", "DROPS", "HANDED OFF", "TAKEN OVER", "LOOPS", "SLEEPS");
        var sockets = new TextTable("WORKER", "SOCKET", "RX", "FWD", "TX", "DROPS");
        for (int w = 0; w < e.WorkerCount; w++)
        {
            var sum = e.CountersOfWorker(w);
            var h = e.HandOffCountersOf(w);
            workers.Row(w, e.CpuOf(w)?.ToString() ?? "-", sum.RxPackets, sum.Forwarded, sum.TxPackets, sum.TotalDrops + h.TotalDrops,
                e.HandedOffBy(w), h.RxPackets, e.LoopsOf(w), e.PollsOf(w));
            foreach (var p in e.PortsOf(w))
                sockets.Row(w, QueueName(p), p.Counters.RxPackets, p.Counters.Forwarded, p.Counters.TxPackets, EngineDrops(p.Counters));
        }
        return $"{workers}\n{sockets}";
    }

    /// <summary>An AF_XDP socket as status and stats name it: its interface and RX queue ("eth0/q1").</summary>
    private static string QueueName(Appliance.Datapath.Xsk.XskPort p) => $"{p.InterfaceName}/q{p.Queue}";

    /// <summary>MACs the pair has learned on its uplink now (read outside the worker: a snapshot).</summary>
    /// <summary>The DHCP client identities of a family the pair's tenant holds, by the workers' clock.</summary>
    private int DhcpIdsNow(PairRuntime p, bool v6) =>
        p.DhcpClients.Count(v6, (uint)p.UplinkPort < (uint)T.EnginePortCount && T.PortByEnginePort[p.UplinkPort] is { } port ? port.Classifier.Now : 0);

    private int LearnedNow(PairRuntime p) =>
        (uint)p.UplinkPort < (uint)T.EnginePortCount && T.PortByEnginePort[p.UplinkPort] is { } port ? port.Classifier.LearnedCount(p.Index) : 0;

    private static string EngineDrops(PortCounters c)
    {
        var parts = Enum.GetValues<DropReason>().Where(r => c.Drops(r) != 0).Select(r => $"{Camel(r)}={c.Drops(r)}").ToArray();
        return parts.Length == 0 ? "0" : $"{c.TotalDrops} ({string.Join(' ', parts)})";
    }

    /// <summary>"0", or the total with its causes: "1200 (rxRingFull=1000 noFrame=200)", with the descriptors the kernel
    /// refused (a fault of ours, never expected) named too.</summary>
    private static string KernelDrops(in XdpStatistics k)
    {
        var parts = new List<string>();
        if (k.RxRingFull != 0) parts.Add($"rxRingFull={k.RxRingFull}");
        if (k.RxDropped != 0) parts.Add($"noFrame={k.RxDropped}");
        if (k.RxInvalidDescs != 0) parts.Add($"rxInvalid={k.RxInvalidDescs}");
        if (k.TxInvalidDescs != 0) parts.Add($"txInvalid={k.TxInvalidDescs}");
        return parts.Count == 0 ? "0" : $"{k.RxLost} ({string.Join(' ', parts)})";
    }

    private static string SideDrops(SideCounters c)
    {
        var parts = Enum.GetValues<PairDropReason>().Where(r => c.Drops(r) != 0).Select(r => $"{Camel(r)}={c.Drops(r)}").ToArray();
        return parts.Length == 0 ? "-" : string.Join(' ', parts);
    }

    private static string Camel<T>(T value) where T : struct, Enum => DecisionText.Camel(value.ToString());

    /// <summary>Everything `stats --json` shows: ports (engine counters), pair sides (netkit counters, drops by
    /// reason), programs (runs by outcome).</summary>
    public string StatsJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("uptimeSeconds", (long)(DateTime.UtcNow - runtime.StartedUtc).TotalSeconds);
            w.WriteNumber("netlinkDumpsRestarted", Appliance.Interop.NetlinkSocket.DumpsRestarted);
            w.WriteStartObject("worker");
            w.WriteBoolean("running", runtime.Engine.IsRunning);
            w.WriteNumber("restarts", runtime.Engine.WorkerRestarts);
            w.WriteNumber("handlerFaults", runtime.Engine.HandlerFaults);
            w.WriteString("lastFault", runtime.Engine.LastFault);
            w.WriteEndObject();
            // Each forwarding worker's share (the port counters below are their sums).
            w.WriteStartArray("workers");
            var e = runtime.Engine;
            for (int k = 0; k < e.WorkerCount; k++)
            {
                var sum = e.CountersOfWorker(k);
                var h = e.HandOffCountersOf(k);
                w.WriteStartObject();
                w.WriteNumber("worker", k);
                if (e.CpuOf(k) is int cpu) w.WriteNumber("cpu", cpu);
                else w.WriteNull("cpu");
                w.WriteStartArray("queues");
                foreach (var p in e.PortsOf(k)) w.WriteStringValue(QueueName(p));
                w.WriteEndArray();
                w.WriteNumber("rxPackets", sum.RxPackets);
                w.WriteNumber("forwarded", sum.Forwarded);
                w.WriteNumber("txPackets", sum.TxPackets);
                w.WriteNumber("drops", sum.TotalDrops);
                w.WriteNumber("handedOff", e.HandedOffBy(k));
                w.WriteNumber("takenOver", h.RxPackets);
                w.WriteNumber("takenOverSent", h.Forwarded);
                w.WriteNumber("takenOverDrops", h.TotalDrops);
                w.WriteNumber("loops", e.LoopsOf(k));
                w.WriteNumber("sleeps", e.PollsOf(k));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("ports");
            foreach (var p in T.Ports) WritePort(w, p.Name, "port", runtime.Engine.CountersOf(p.Index), runtime.Engine.KernelStatisticsOf(p.Index), p);
            foreach (var p in T.Pairs)
                WritePort(w, p.Name, "primary-end", runtime.Engine.CountersOf(p.PrimaryPort), runtime.Engine.KernelStatisticsOf(p.PrimaryPort), null);
            foreach (var p in NotRunning("port")) WriteNotRunning(w, p, "port");
            foreach (var p in NotRunning("pair")) WriteNotRunning(w, p, "primary-end");
            w.WriteEndArray();
            w.WriteStartArray("pairs");
            foreach (var p in T.Pairs)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteBoolean("carrier", p.CarrierUp);
                WriteSide(w, "primary", p.Primary);
                WriteSide(w, "peer", p.Peer);
                var l = p.Learning;
                w.WriteStartObject("learning");
                w.WriteNumber("learnedNow", LearnedNow(p));
                w.WriteNumber("limit", p.Config.LearnLimit);
                w.WriteNumber("learned", l.Learned);
                w.WriteNumber("aged", l.Aged);
                w.WriteNumber("moved", l.Moved);
                w.WriteNumber("refused", l.Refused);
                w.WriteNumber("refusedLimit", l.RefusedLimit);
                w.WriteNumber("refusedReserved", l.RefusedReserved);
                w.WriteNumber("refusedOwned", l.RefusedOwned);
                w.WriteNumber("refusedOutside", l.RefusedOutside);
                w.WriteNumber("claimErrors", l.ClaimErrors);
                w.WriteEndObject();
                w.WriteStartObject("dhcpClients");
                w.WriteNumber("limit", p.DhcpClients.Limit);
                w.WriteNumber("ipv4Now", DhcpIdsNow(p, false));
                w.WriteNumber("ipv6Now", DhcpIdsNow(p, true));
                w.WriteNumber("refused", p.DhcpClients.Refused);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            foreach (var p in NotRunning("pair")) WriteNotRunning(w, p, null);
            w.WriteEndArray();
            w.WriteStartArray("programs");
            foreach (var p in runtime.Programs.Programs.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                var c = p.Counters;
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteString("object", p.Object.Path);
                w.WriteString("section", p.Config.Section);
                w.WriteString("engine", runtime.EngineOf(p));
                w.WriteNumber("runs", c.Runs);
                w.WriteNumber("bytes", c.Bytes);
                w.WriteNumber("pass", c.Pass);
                w.WriteNumber("next", c.Next);
                w.WriteNumber("drop", c.Drop);
                w.WriteNumber("redirect", c.Redirect);
                w.WriteNumber("unknown", c.Unknown);
                w.WriteNumber("faults", c.Faults);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WritePort(Utf8JsonWriter w, string name, string kind, PortCounters c, in XdpStatistics kernel, PortRuntime? port)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("kind", kind);
        w.WriteNumber("rxPackets", c.RxPackets);
        w.WriteNumber("rxBytes", c.RxBytes);
        w.WriteNumber("forwarded", c.Forwarded);
        w.WriteNumber("txPackets", c.TxPackets);
        w.WriteNumber("txBytes", c.TxBytes);
        w.WriteNumber("busyPolls", c.BusyPolls);
        w.WriteStartObject("drops");
        foreach (var r in Enum.GetValues<DropReason>()) w.WriteNumber(Camel(r), c.Drops(r));
        w.WriteEndObject();
        // The kernel's counters of the port's AF_XDP sockets (struct xdp_statistics, summed over its queues).
        w.WriteStartObject("xsk");
        foreach (var (json, _, _, value) in SocketCounters.All) w.WriteNumber(json, value(kernel));
        w.WriteEndObject();
        if (port is not null)
        {
            w.WriteNumber("unclaimed", port.Unclaimed);
            w.WriteNumber("flooded", port.Flooded);
            w.WriteNumber("proxied", port.Proxied);
            if (port.Steering is { } steering)
            {
                w.WriteNumber("l3Prefixes", steering.L3PrefixCount);
                w.WriteNumber("l3BoardAddresses", steering.L3BoardAddressCount);
                w.WriteNumber("l3LeftOut", steering.L3LeftOut);
            }
        }
        w.WriteEndObject();
    }

    /// <summary>A not-running part's entry: its name (and kind in "ports"), "running": false and why.</summary>
    private static void WriteNotRunning(Utf8JsonWriter w, NotRunningPart part, string? kind)
    {
        w.WriteStartObject();
        w.WriteString("name", part.Name);
        if (kind is not null) w.WriteString("kind", kind);
        w.WriteBoolean("running", false);
        w.WriteString("why", part.Why);
        w.WriteEndObject();
    }

    private static void WriteSide(Utf8JsonWriter w, string name, PairSide s)
    {
        var c = s.Counters;
        w.WriteStartObject(name);
        w.WriteString("policy", s.Policy.ToString().ToLowerInvariant());
        w.WriteString("scrub", s.Scrub.ToString().ToLowerInvariant());
        w.WriteNumber("revision", s.Chain.Revision);
        w.WriteStartArray("chain");
        foreach (var p in s.Chain.Programs) w.WriteStringValue(p.Name);
        w.WriteEndArray();
        w.WriteNumber("rxPackets", c.RxPackets);
        w.WriteNumber("rxBytes", c.RxBytes);
        w.WriteNumber("txPackets", c.TxPackets);
        w.WriteNumber("txBytes", c.TxBytes);
        w.WriteNumber("txDropped", c.TxDropped);
        w.WriteStartObject("drops");
        foreach (var r in Enum.GetValues<PairDropReason>()) w.WriteNumber(Camel(r), c.Drops(r));
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
