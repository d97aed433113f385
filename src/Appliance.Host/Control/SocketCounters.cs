using Appliance.Interop;

namespace Appliance.Host.Control;

/// <summary>The kernel's counters of a port's AF_XDP sockets (struct xdp_statistics, summed over the port's queues:
/// <see cref="Appliance.Datapath.Engine.ForwardingEngine.KernelStatisticsOf"/>), as `stats --json` names them under
/// `xsk` and the metrics as <c>meta_appliance_port_xsk_*_total</c>: one list for both, so they cannot drift apart.</summary>
public static class SocketCounters
{
    public static readonly (string Json, string Metric, string Help, Func<XdpStatistics, ulong> Value)[] All =
    [
        ("rxDropped", "port_xsk_rx_dropped_total", "Frames the kernel dropped on the port's AF_XDP sockets with no free frame to copy into (rx_dropped).", k => k.RxDropped),
        ("rxRingFull", "port_xsk_rx_ring_full_total", "Frames the kernel dropped because the port's AF_XDP RX ring was full: the workers did not keep up (rx_ring_full).", k => k.RxRingFull),
        ("rxFillRingEmpty", "port_xsk_rx_fill_ring_empty_total", "Times the kernel found the port's FILL ring empty (rx_fill_ring_empty_descs).", k => k.RxFillRingEmptyDescs),
        ("rxInvalidDescs", "port_xsk_rx_invalid_descs_total", "FILL descriptors the kernel refused (rx_invalid_descs; 0 normally).", k => k.RxInvalidDescs),
        ("txInvalidDescs", "port_xsk_tx_invalid_descs_total", "TX descriptors the kernel refused (tx_invalid_descs; 0 normally).", k => k.TxInvalidDescs),
        ("txRingEmpty", "port_xsk_tx_ring_empty_total", "Times the kernel found the port's TX ring empty when woken to send (tx_ring_empty_descs).", k => k.TxRingEmptyDescs),
    ];
}
