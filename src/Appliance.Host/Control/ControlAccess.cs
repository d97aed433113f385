using System.Net.Sockets;
using Appliance.Interop;

namespace Appliance.Host.Control;

/// <summary>Who may use the control socket: root (uid 0), or — when the config names a <c>controlGroup</c> — a
/// process whose primary or supplementary group is that group. Checked per connection from what the kernel
/// recorded at connect, not what the client claims: uid and gid (SO_PEERCRED) and supplementary groups
/// (SO_PEERGROUPS). Nothing is looked up by pid, which a client that exits hands on to whatever process gets it next.</summary>
public sealed class ControlAccess
{
    private const int SolSocket = 1, SoPeerCred = 17, SoPeerGroups = 59; // asm-generic, x86-64 and arm64 alike
    private const int MaxGroups = 65536; // NGROUPS_MAX

    private ControlAccess(string? groupName, uint? groupId)
    {
        GroupName = groupName;
        GroupId = groupId;
    }

    /// <summary>Root only: the socket is 0600 root:root.</summary>
    public static ControlAccess RootOnly { get; } = new(null, null);

    /// <summary>Root and the members of <paramref name="groupName"/> (null or empty: root only); throws when
    /// the group does not exist.</summary>
    public static ControlAccess For(string? groupName)
    {
        if (string.IsNullOrEmpty(groupName)) return RootOnly;
        uint gid = FileSecurity.GroupId(groupName)
                   ?? throw new InvalidOperationException($"control group \"{groupName}\" does not exist (controlGroup in the config; create it with groupadd or remove the member)");
        return new ControlAccess(groupName, gid);
    }

    public string? GroupName { get; }
    public uint? GroupId { get; }

    /// <summary>The socket file's permission bits: 0600, or 0660 with a group.</summary>
    public UnixFileMode SocketMode => GroupId is null
        ? UnixFileMode.UserRead | UnixFileMode.UserWrite
        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Null when the peer on <paramref name="client"/> may use the socket, else why not.</summary>
    public string? Refusal(Socket client)
    {
        try
        {
            var (uid, gid) = PeerOf(client);
            if (uid == 0) return null;
            if (GroupId is uint group && (gid == group || PeerGroups(client).Contains(group))) return null;
            return GroupId is null
                ? $"permission denied: uid {uid} is not root (the control socket is root's only; set controlGroup in the config to share it)"
                : $"permission denied: uid {uid} is neither root nor in group \"{GroupName}\"";
        }
        catch (SocketException e)
        {
            return $"permission denied: the peer's credentials cannot be read ({e.Message})";
        }
    }

    /// <summary>The peer's uid and gid as the kernel recorded them at connect (struct ucred: pid, uid, gid).</summary>
    private static (uint Uid, uint Gid) PeerOf(Socket client)
    {
        Span<byte> ucred = stackalloc byte[12];
        int length = client.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12) throw new SocketException((int)SocketError.ProtocolOption);
        return (BitConverter.ToUInt32(ucred[4..]), BitConverter.ToUInt32(ucred[8..]));
    }

    /// <summary>The peer's supplementary groups as the kernel recorded them at connect: up to 64 read on the stack,
    /// more (the kernel says ERANGE) from a buffer for NGROUPS_MAX.</summary>
    private static uint[] PeerGroups(Socket client)
    {
        Span<byte> small = stackalloc byte[64 * sizeof(uint)];
        int length;
        byte[]? large = null;
        try { length = client.GetRawSocketOption(SolSocket, SoPeerGroups, small); }
        catch (SocketException)
        {
            large = new byte[MaxGroups * sizeof(uint)];
            length = client.GetRawSocketOption(SolSocket, SoPeerGroups, large);
        }
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>((large ?? small)[..length]).ToArray();
    }
}
