namespace Appliance.TestSupport;

/// <summary>A network namespace the test owns, named "mapp-…" (unique per test), deleted on Dispose even when
/// the test failed. Interfaces inside it go with it.</summary>
public sealed class NetNamespace : IDisposable
{
    private static int _counter;

    public string Name { get; }

    public NetNamespace(string purpose)
    {
        Name = UniqueName(purpose);
        Shell.Check("ip", "netns", "add", Name);
        Exec("ip", "link", "set", "lo", "up");
    }

    /// <summary>A short unique name with our prefix: mapp-&lt;purpose&gt;-&lt;pid&gt;-&lt;n&gt;.</summary>
    public static string UniqueName(string purpose) =>
        $"mapp-{purpose}-{Environment.ProcessId % 100000}-{Interlocked.Increment(ref _counter)}";

    /// <summary>A unique interface name (at most 15 characters): &lt;prefix&gt;&lt;pid&gt;&lt;n&gt;.</summary>
    public static string UniqueInterface(string prefix) =>
        $"{prefix[..Math.Min(prefix.Length, 4)]}{Environment.ProcessId % 10000}x{Interlocked.Increment(ref _counter)}";

    public string Exec(string file, params string[] args) =>
        Shell.Check("ip", ["netns", "exec", Name, file, .. args]);

    public Shell.Result TryExec(string file, params string[] args) =>
        Shell.Run("ip", ["netns", "exec", Name, file, .. args]);

    public void Dispose() => Shell.Run("ip", "netns", "del", Name);
}
