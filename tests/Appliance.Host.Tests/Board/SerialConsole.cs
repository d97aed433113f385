using System.Text;
using System.Text.RegularExpressions;

namespace Appliance.Host.Tests.Board;

/// <summary>The board's serial console seen from the host: everything the guest prints is accumulated (the shell
/// prompt has no newline, so it reads characters, not lines); commands are typed into the guest's shell and
/// their output and exit code are collected between markers.</summary>
public sealed class SerialConsole
{
    private readonly StringBuilder _text = new();
    private readonly object _gate = new();
    private readonly TextWriter _input;
    private readonly List<(int End, TimeSpan At)> _arrivals = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private int _commandCounter;

    public SerialConsole(StreamReader output, TextWriter input)
    {
        _input = input;
        var reader = new Thread(() => Pump(output)) { IsBackground = true, Name = "board-console" };
        reader.Start();
    }

    /// <summary>Everything printed so far.</summary>
    public string Text
    {
        get { lock (_gate) return _text.ToString(); }
    }

    public int Length
    {
        get { lock (_gate) return _text.Length; }
    }

    /// <summary>When the character at <paramref name="index"/> arrived, measured from the console's creation
    /// (which is when QEMU was started).</summary>
    public TimeSpan ArrivalOf(int index)
    {
        lock (_gate)
        {
            foreach (var (end, at) in _arrivals)
                if (index < end) return at;
            return _clock.Elapsed;
        }
    }

    /// <summary>True once the guest's output stream has ended (QEMU exited).</summary>
    public bool Closed { get; private set; }

    private void Pump(StreamReader output)
    {
        var buffer = new char[4096];
        int n;
        try
        {
            while ((n = output.Read(buffer, 0, buffer.Length)) > 0)
                lock (_gate)
                {
                    _text.Append(buffer, 0, n);
                    _arrivals.Add((_text.Length, _clock.Elapsed));
                    Monitor.PulseAll(_gate);
                }
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        lock (_gate)
        {
            Closed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until the output after <paramref name="from"/> matches; throws with the console tail on timeout
    /// or when QEMU exits first.</summary>
    public Match WaitFor(Regex pattern, TimeSpan timeout, int from = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (true)
            {
                var m = pattern.Match(_text.ToString(), Math.Min(from, _text.Length));
                if (m.Success) return m;
                var left = deadline - DateTime.UtcNow;
                if (Closed || left <= TimeSpan.Zero)
                    throw new TimeoutException(
                        $"board console: no match for /{pattern}/ within {timeout.TotalSeconds:0} s" +
                        (Closed ? " (QEMU exited)" : "") + "\n--- console tail ---\n" + Tail(_text.ToString(), 4000));
                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }

    public Match WaitFor(string regex, TimeSpan timeout, int from = 0) => WaitFor(new Regex(regex, RegexOptions.Multiline), timeout, from);

    /// <summary>Types a line into the console without waiting for anything.</summary>
    public void Type(string line)
    {
        _input.Write(line + "\n");
        _input.Flush();
    }

    /// <summary>Runs a shell command in the guest and returns its exit code and the console output it produced
    /// (which also holds the echoed command line).</summary>
    public (int ExitCode, string Output) Run(string command, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref _commandCounter);
        var start = Length;
        // The echoed input shows "rc=$?" literally, so only the executed echo matches rc=<digits>.
        Type($"{command}; echo \"__MAPP_DONE_{id}__ rc=$?\"");
        var m = WaitFor(new Regex($@"__MAPP_DONE_{id}__ rc=(\d+)"), timeout, start);
        var output = Text[start..m.Index];
        return (int.Parse(m.Groups[1].Value), output);
    }

    /// <summary>Runs a command and fails with its output unless it exits 0.</summary>
    public string Check(string command, TimeSpan timeout)
    {
        var (rc, output) = Run(command, timeout);
        if (rc != 0) throw new InvalidOperationException($"guest command `{command}` exited {rc}:\n{output}");
        return output;
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];
}
