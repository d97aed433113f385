namespace Appliance.Datapath.Engine;

/// <summary>Per-port traffic counters. Written only by the forwarding worker (plain stores of 64-bit values,
/// which are atomic on 64-bit platforms); read by anyone through the Volatile properties.</summary>
public sealed class PortCounters
{
    public static readonly int ReasonCount = Enum.GetValues<DropReason>().Length;

    internal long RxPacketsField, RxBytesField, TxPacketsField, TxBytesField, ForwardedField, KicksField, KickErrorsField, BusyPollsField;
    internal readonly long[] DropsField = new long[ReasonCount];

    public long RxPackets => Volatile.Read(ref RxPacketsField);
    public long RxBytes => Volatile.Read(ref RxBytesField);
    public long TxPackets => Volatile.Read(ref TxPacketsField);
    public long TxBytes => Volatile.Read(ref TxBytesField);
    /// <summary>Frames received here that were put on a target's TX ring (the target counts them as its TX). Between
    /// batches every received frame is forwarded or dropped for one reason: RX = Forwarded + TotalDrops.</summary>
    public long Forwarded => Volatile.Read(ref ForwardedField);
    /// <summary>sendto() calls made to transmit (copy mode) or wake the driver.</summary>
    public long Kicks => Volatile.Read(ref KicksField);
    /// <summary>sendto() calls that failed with something other than EAGAIN/EBUSY/ENOBUFS.</summary>
    public long KickErrors => Volatile.Read(ref KickErrorsField);
    /// <summary>recvfrom() calls that busy-polled the socket's NAPI because its batches came full (adaptive busy poll).</summary>
    public long BusyPolls => Volatile.Read(ref BusyPollsField);

    public long Drops(DropReason reason) => Volatile.Read(ref DropsField[(int)reason]);

    public long TotalDrops
    {
        get
        {
            long n = 0;
            for (int i = 0; i < DropsField.Length; i++) n += Volatile.Read(ref DropsField[i]);
            return n;
        }
    }

    /// <summary>Adds <paramref name="other"/>'s counts to these (summing the workers' sockets of one port).</summary>
    internal void Add(PortCounters other)
    {
        RxPacketsField += other.RxPackets;
        RxBytesField += other.RxBytes;
        TxPacketsField += other.TxPackets;
        TxBytesField += other.TxBytes;
        ForwardedField += other.Forwarded;
        KicksField += other.Kicks;
        KickErrorsField += other.KickErrors;
        BusyPollsField += other.BusyPolls;
        for (int i = 0; i < DropsField.Length; i++) DropsField[i] += Volatile.Read(ref other.DropsField[i]);
    }

    public override string ToString()
    {
        var drops = string.Join(' ', Enum.GetValues<DropReason>().Where(r => Drops(r) != 0).Select(r => $"{r}={Drops(r)}"));
        return $"rx={RxPackets} ({RxBytes} B) tx={TxPackets} ({TxBytes} B) fwd={Forwarded} drops={TotalDrops}{(drops.Length > 0 ? $" [{drops}]" : "")} kicks={Kicks}";
    }
}
