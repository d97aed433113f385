using System.Runtime.CompilerServices;

namespace Appliance.Bpf.Context;

/// <summary><c>__sk_buff.cb[5]</c>: 20 bytes of per-packet scratch that travels with the frame.</summary>
[InlineArray(SkBuffLayout.CbCount)]
public struct ControlBlock
{
    private uint _element0;
}
