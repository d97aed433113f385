namespace Appliance.Datapath.Forwarding;

/// <summary>Counters of one program: runs, bytes seen, and how its runs ended.</summary>
public sealed class ProgramCounters
{
    private enum Field { Runs, Bytes, Next, Pass, Drop, Redirect, Unknown, Fault, Count }

    private readonly WorkerCounters _c = new((int)Field.Count);

    internal void Ran(int worker, int bytes, int verdict, bool faulted)
    {
        var v = _c.Of(worker);
        v[(int)Field.Runs]++;
        v[(int)Field.Bytes] += bytes;
        var f = faulted ? Field.Fault : verdict switch
        {
            -1 => Field.Next,
            0 => Field.Pass,
            2 => Field.Drop,
            7 => Field.Redirect,
            _ => Field.Unknown,
        };
        v[(int)f]++;
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
