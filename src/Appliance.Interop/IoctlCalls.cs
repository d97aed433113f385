using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>ioctl(2) on sockets, with the interface request (struct ifreq) the SIOC* calls take.</summary>
public static unsafe partial class IoctlCalls
{
    public const ulong SIOCETHTOOL = 0x8946;

    /// <summary>sizeof(struct ifreq) on 64-bit Linux: 16-byte name + 24-byte union.</summary>
    public const int IfReqSize = 40;
    private const int IfNameSize = 16;

    /// <summary>ioctl(2) (Tmds.LibC, whose request is an int: the kernel reads the command as 32 bits either way).</summary>
    public static int Ioctl(int fd, ulong request, void* arg) => Tmds.Linux.LibC.ioctl(fd, unchecked((int)request), arg);

    /// <summary>Runs an interface ioctl whose ifreq union holds a pointer (ifr_data) to <paramref name="data"/>;
    /// throws with the operation, interface and errno on failure.</summary>
    public static void InterfaceDataIoctl(int socketFd, ulong request, string ifName, Span<byte> data,
        string operation, string? hint = null)
    {
        if (ifName.Length is 0 or >= IfNameSize)
            throw new ArgumentException($"interface name '{ifName}' must be 1..15 characters", nameof(ifName));
        byte* ifr = stackalloc byte[IfReqSize];
        new Span<byte>(ifr, IfReqSize).Clear();
        for (int i = 0; i < ifName.Length; i++) ifr[i] = (byte)ifName[i];
        fixed (byte* d = data)
        {
            *(byte**)(ifr + IfNameSize) = d;
            if (Ioctl(socketFd, request, ifr) < 0) throw PlatformException.FromLastError(operation, ifName, hint);
        }
    }
}
