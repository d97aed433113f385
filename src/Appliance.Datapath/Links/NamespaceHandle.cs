using Appliance.Interop;

namespace Appliance.Datapath.Links;

/// <summary>An open file descriptor on a named network namespace (for IFLA_NET_NS_FD or setns).</summary>
public sealed class NamespaceHandle : IDisposable
{
    private int _fd;

    internal NamespaceHandle(string name, int fd)
    {
        Name = name;
        _fd = fd;
    }

    public string Name { get; }

    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException($"namespace handle {Name}");

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.Close(fd);
    }
}
