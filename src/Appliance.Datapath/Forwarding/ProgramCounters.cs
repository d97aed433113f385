using System.Runtime.CompilerServices;

namespace Appliance.Datapath.Forwarding;

/// <summary>Counters of one program: runs, bytes seen, and how its runs ended.</summary>
public sealed class ProgramCounters
{
    private enum Field { Runs, Bytes, Next, Pass, Drop, Redirect, Unknown, Fault, Count }

    private readonly WorkerCounters _c = new((int)Field.Count);

    /// <summary>The field of each netkit verdict from NEXT (−1) to REDIRECT (7); any other value is unknown.</summary>
    private static ReadOnlySpan<byte> VerdictFields =>
    [
        (byte)Field.Next, (byte)Field.Pass, (byte)Field.Unknown, (byte)Field.Drop, (byte)Field.Unknown,
        (byte)Field.Unknown, (byte)Field.Unknown, (byte)Field.Unknown, (byte)Field.Redirect,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Ran(int worker, int bytes, int verdict, bool faulted)
    {
        ref long v = ref _c.FieldsOf(worker);
        Unsafe.Add(ref v, (int)Field.Runs)++;
        Unsafe.Add(ref v, (int)Field.Bytes) += bytes;
        uint at = (uint)(verdict + 1);
        int f = faulted ? (int)Field.Fault : at < (uint)VerdictFields.Length ? VerdictFields[(int)at] : (int)Field.Unknown;
        Unsafe.Add(ref v, f)++; // a Field below Count
    }

    public long Runs => _c.Read((int)Field.Runs);
    public long Bytes => _c.Read((int)Field.Bytes);
    public long Next => _c.Read((int)Field.Next);
    public long Pass => _c.Read((int)Field.Pass);
    public long Drop => _c.Read((int)Field.Drop);
    public long Redirect => _c.Read((int)Field.Redirect);
    public long Unknown => _c.Read((int)Field.Unknown);
    public long Faults => _c.Read((int)Field.Fault);
}
