namespace Appliance.Host.State;

/// <summary>A port's packet total from the kernel (/sys/class/net/NAME/statistics/rx_packets + tx_packets),
/// for the activity trigger of ports. Read on the LED thread every 50 ms; 0 when the port is gone.</summary>
public static class KernelPacketCounter
{
    public static Func<ulong> For(string port, string sysClassNet = "/sys/class/net")
    {
        var rx = Path.Combine(sysClassNet, port, "statistics", "rx_packets");
        var tx = Path.Combine(sysClassNet, port, "statistics", "tx_packets");
        return () => Read(rx) + Read(tx);
    }

    private static ulong Read(string path)
    {
        try
        {
            return ulong.TryParse(File.ReadAllText(path).AsSpan().Trim(), out var v) ? v : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
