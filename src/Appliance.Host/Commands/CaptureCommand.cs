using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Appliance.Host.Cli;
using Appliance.Host.Control;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance capture PAIR|PORT [--side primary|peer] [--verdict pass|drop|redirect|all] [--count N]
/// [--snaplen B] --out FILE|-`: asks the running appliance for a capture over a streaming control connection and
/// writes the pcapng it streams to FILE or stdout (<c>| tcpdump -r -</c>), one whole block at a time, so the file
/// is readable at any moment. Ctrl-C (SIGINT/SIGTERM) tells the appliance to stop: it finishes the file with its
/// statistics (packets seen and lost per capture point) and closes, then this exits 0. Frames the appliance's
/// reader could not keep up with are counted, and said on stderr at the end.</summary>
public static class CaptureCommand
{
    public static readonly CliVerb Definition = new("capture", "capture a port's or a pair's frames with their verdicts to pcapng")
    {
        Description = "Captures what the datapath decides, where tcpdump on the board cannot look (AF_XDP takes the frames " +
                      "before the kernel's capture hooks): one pcapng interface per port or pair side, each frame with its " +
                      "direction and a comment saying the verdict, the side, the program that decided, the drop reason and the " +
                      "target. A port shows what it received (inbound) and what was forwarded to it (outbound); a pair side what " +
                      "entered it and what left it. Ctrl-C ends the file cleanly.",
        Arguments = [new("TARGET", "a port or a pair of the running appliance") { Completion = CliCompletion.Pair }],
        Options =
        [
            new("--side", "only this side of a pair (both when left off)") { Value = "SIDE", Choices = ["primary", "peer"], Forwarded = true },
            new("--verdict", "only frames with this verdict") { Value = "V", Choices = ["pass", "drop", "redirect", "all"], Default = "all", Forwarded = true },
            new("--count", "stop after N packets") { Value = "N", Forwarded = true },
            new("--snaplen", "keep at most B bytes of each frame") { Value = "B", Default = "262144", Forwarded = true },
            new("--out", "the pcapng file to write, or - for stdout") { Value = "FILE", Completion = CliCompletion.File, Required = true },
            ControlVerb.Socket,
        ],
        Exit = "Exit 0 when the capture ended (count reached, Ctrl-C, or the appliance stopped), 1 when the appliance refused it " +
               "or could not be reached, 2 on bad usage.",
    };

    public static int Run(string[] args) => Run(args, Console.Error);

    public static int Run(string[] args, TextWriter stderr)
    {
        if (!CliParser.TryParse(Definition, args, Console.Out, stderr, out var a, out int exit)) return exit;
        string outPath = a.Value("--out")!;
        var socket = ControlClient.OpenStream(ControlVerb.SocketPath(a), new ControlRequest(Definition.Name, [.. a.Forward]), out var answer);
        if (socket is null)
        {
            stderr.WriteLine($"meta-appliance capture: {answer.Error}");
            return 1;
        }
        using (socket)
        {
            stderr.WriteLine($"meta-appliance capture: {answer.Body}");
            void Stop(PosixSignalContext c)
            {
                c.Cancel = true;
                try { socket.Shutdown(SocketShutdown.Send); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var output = outPath == "-" ? Console.OpenStandardOutput() : File.Create(outPath);
            var (packets, lost) = CopyBlocks(socket, output);
            if (lost is null)
            {
                stderr.WriteLine($"meta-appliance capture: {packets} packet(s) written; the appliance ended the capture before its statistics " +
                                 $"(this reader took nothing for {ControlServer.StreamStallTimeout.TotalSeconds:0} s, or the appliance stopped)");
                return 1;
            }
            stderr.WriteLine($"meta-appliance capture: {packets} packet(s) written, {lost} lost (the capture reader fell behind)");
        }
        return 0;
    }

    /// <summary>Copies whole pcapng blocks from the appliance to <paramref name="output"/> until it closes; counts
    /// Enhanced Packet Blocks and adds up the statistics blocks' isb_ifdrop (null: the stream ended without them).</summary>
    private static (long Packets, long? Lost) CopyBlocks(Socket socket, Stream output)
    {
        using var input = new NetworkStream(socket, ownsSocket: false);
        var block = new byte[64 * 1024];
        long packets = 0;
        long? lost = null;
        while (true)
        {
            if (!ReadExactly(input, block.AsSpan(0, 8))) break;
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(block), length = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(4));
            if (length < 12 || length % 4 != 0 || length > 16 << 20) throw new IOException($"the appliance sent a malformed pcapng block (length {length})");
            if (length > block.Length) Array.Resize(ref block, (int)length);
            if (!ReadExactly(input, block.AsSpan(8, (int)length - 8))) break; // cut short: leave the partial block out
            output.Write(block, 0, (int)length);
            if (type == 6) packets++;
            else if (type == 5) lost = (lost ?? 0) + IsbDrops(block.AsSpan(0, (int)length));
            if (socket.Available == 0) output.Flush();
        }
        output.Flush();
        return (packets, lost);
    }

    /// <summary>isb_ifdrop (option 5) of an Interface Statistics Block.</summary>
    private static long IsbDrops(ReadOnlySpan<byte> isb)
    {
        var options = isb[20..^4];
        while (options.Length >= 4)
        {
            ushort code = BinaryPrimitives.ReadUInt16LittleEndian(options), len = BinaryPrimitives.ReadUInt16LittleEndian(options[2..]);
            if (code == 0 || 4 + len > options.Length) break;
            if (code == 5 && len == 8) return (long)BinaryPrimitives.ReadUInt64LittleEndian(options[4..]);
            options = options[(4 + ((len + 3) & ~3))..];
        }
        return 0;
    }

    private static bool ReadExactly(Stream s, Span<byte> buffer)
    {
        int at = 0;
        while (at < buffer.Length)
        {
            int n = s.Read(buffer[at..]);
            if (n == 0) return false;
            at += n;
        }
        return true;
    }
}
