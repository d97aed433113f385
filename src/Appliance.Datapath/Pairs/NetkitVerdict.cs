using System.Runtime.CompilerServices;

namespace Appliance.Datapath.Pairs;

/// <summary>netkit's verdicts (enum netkit_action, include/uapi/linux/if_link.h). A program's return
/// is read as <c>(int)(uint)r0</c>; any value not listed here drops (netkit, unlike tcx).</summary>
public enum NetkitVerdict
{
    Next = -1,
    Pass = 0,
    Drop = 2,
    Redirect = 7,
}

public static class NetkitVerdicts
{
    /// <summary>Decodes a program's r0. Unknown values become <see cref="NetkitVerdict.Drop"/>
    /// and <paramref name="unknown"/> says so (they are counted apart from explicit drops).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NetkitVerdict Decode(ulong r0, out bool unknown)
    {
        int v = (int)(uint)r0;
        unknown = false;
        switch (v)
        {
            case -1: return NetkitVerdict.Next;
            case 0: return NetkitVerdict.Pass;
            case 2: return NetkitVerdict.Drop;
            case 7: return NetkitVerdict.Redirect;
            default:
                unknown = true;
                return NetkitVerdict.Drop;
        }
    }
}
