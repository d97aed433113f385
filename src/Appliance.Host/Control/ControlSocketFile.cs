using System.Net.Sockets;
using Appliance.Datapath.Diagnostics;
using Appliance.Interop;

namespace Appliance.Host.Control;

/// <summary>Creates the control socket's listening file with permissions that do not depend on the umask the
/// process inherited: missing parent folders are made 0755 and root's; the socket is given mode 0600 before
/// bind (so its file is never more open than that, not even for an instant), then given the access's group and mode
/// (0600, or 0660 with a control group) and checked. An existing parent that others may write to (or that
/// root does not own) is left as it is — it may be /tmp or /run — and named in a warning: whoever can write
/// there can replace the socket file.</summary>
internal static class ControlSocketFile
{
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    public static Socket Bind(string path, ControlAccess access)
    {
        string folder = Path.GetDirectoryName(path) ?? "/";
        CreateFolders(folder);
        WarnIfLoose(folder);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // The socket's own mode, set before bind, is what bind gives the file (masked by the umask): never more
            // than 0600, not even for an instant. The process-wide umask is left alone (other threads create files).
            FileSecurity.Fchmod(listener.Handle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            FileSecurity.SetSocketAccess(path, access.GroupId, access.SocketMode);
            var (_, actualGid, mode) = FileSecurity.Owner(path);
            if (mode != (uint)access.SocketMode || access.GroupId is uint want && actualGid != want)
                throw new InvalidOperationException($"the control socket {path} has mode {Convert.ToString(mode, 8)} group {actualGid} after chmod/chown; expected {Convert.ToString((int)access.SocketMode, 8)}");
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Makes the missing folders of <paramref name="folder"/>, each 0755 and owned by the process (root).</summary>
    private static void CreateFolders(string folder)
    {
        var missing = new Stack<string>();
        for (string? f = folder; !string.IsNullOrEmpty(f) && !Directory.Exists(f); f = Path.GetDirectoryName(f)) missing.Push(f);
        while (missing.Count > 0)
        {
            string f = missing.Pop();
            Directory.CreateDirectory(f);
            FileSecurity.Chmod(f, FolderMode); // explicit: mkdir's mode is masked by the umask
        }
    }

    private static void WarnIfLoose(string folder)
    {
        var (uid, _, mode) = FileSecurity.Owner(folder);
        bool othersWrite = (mode & 0x12) != 0 && (mode & 0x200) == 0; // group/other write (022), no sticky bit (01000)
        if (uid != 0 || othersWrite)
            Log.Warn("control", "the control socket's folder is not root's alone: whoever can write there can replace the socket; use a folder such as /run/meta-appliance",
                ("folder", folder), ("owner_uid", uid), ("mode", Convert.ToString(mode, 8)));
    }
}
