using Appliance.Datapath.Pairs;

namespace Appliance.Datapath.Forwarding;

/// <summary>What learning did for one pair: MACs learned, aged out and moved outside, learns refused by reason (each such frame is
/// dropped as InvalidSource), and claims the
/// kernel refused (the steering map full or another bpf() error: counted, logged rate-limited, the MAC not learned).
/// Every forwarding worker may count here (a pair's frames arrive on all of them): the rare events are added with
/// Interlocked; read with Volatile.</summary>
public sealed class LearnCounters
{
    internal long LearnedField, AgedField, MovedField, LimitField, ReservedField, OwnedField, OutsideField, ClaimErrorsField;

    /// <summary>MACs learned so far (each claimed once on the uplink).</summary>
    public long Learned => Volatile.Read(ref LearnedField);
    /// <summary>Learned MACs forgotten after the ageing time and unclaimed.</summary>
    public long Aged => Volatile.Read(ref AgedField);
    /// <summary>Learned MACs forgotten and unclaimed because a host on the port's outside sent from them (the MAC moved,
    /// <see cref="L2Classifier.SawOutside"/>).</summary>
    public long Moved => Volatile.Read(ref MovedField);
    /// <summary>Frames from a new source MAC after the pair's learnLimit was reached.</summary>
    public long RefusedLimit => Volatile.Read(ref LimitField);
    /// <summary>Frames whose source is the board's own MAC or one another pair configured.</summary>
    public long RefusedReserved => Volatile.Read(ref ReservedField);
    /// <summary>Frames whose source another pair on the uplink owns (configured or learned).</summary>
    public long RefusedOwned => Volatile.Read(ref OwnedField);
    /// <summary>Frames whose source a host on the port's outside sent from lately (<see cref="OutsideMacs"/>).</summary>
    public long RefusedOutside => Volatile.Read(ref OutsideField);
    /// <summary>Learns the kernel refused to claim in the port's XDP map.</summary>
    public long ClaimErrors => Volatile.Read(ref ClaimErrorsField);
    public long Refused => RefusedLimit + RefusedReserved + RefusedOwned + RefusedOutside;

    internal void CountRefusal(LearnResult result)
    {
        switch (result)
        {
            case LearnResult.LimitReached: Interlocked.Increment(ref LimitField); break;
            case LearnResult.Reserved: Interlocked.Increment(ref ReservedField); break;
            case LearnResult.OwnedByAnother: Interlocked.Increment(ref OwnedField); break;
            case LearnResult.SeenOutside: Interlocked.Increment(ref OutsideField); break;
        }
    }
}
