namespace Appliance.Bpf.Vm;

/// <summary>The RFC 9669 division corner cases: x / 0 = 0; x % 0 = x (the 32-bit forms zero-extend);
/// signed INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0; signed division truncates toward zero.</summary>
internal static class Arithmetic
{
    public static ulong Div64(ulong a, ulong b) => b == 0 ? 0 : a / b;
    public static ulong Mod64(ulong a, ulong b) => b == 0 ? a : a % b;
    public static ulong Div32(uint a, uint b) => b == 0 ? 0u : a / b;
    public static ulong Mod32(uint a, uint b) => b == 0 ? a : a % b;

    public static ulong SDiv64(ulong a, ulong b)
    {
        long x = (long)a, y = (long)b;
        if (y == 0) return 0;
        if (y == -1) return (ulong)unchecked(-x);
        return (ulong)(x / y);
    }

    public static ulong SMod64(ulong a, ulong b)
    {
        long x = (long)a, y = (long)b;
        if (y == 0) return a;
        if (y == -1) return 0;
        return (ulong)(x % y);
    }

    public static ulong SDiv32(uint a, uint b)
    {
        int x = (int)a, y = (int)b;
        if (y == 0) return 0;
        if (y == -1) return (uint)unchecked(-x);
        return (uint)(x / y);
    }

    public static ulong SMod32(uint a, uint b)
    {
        int x = (int)a, y = (int)b;
        if (y == 0) return a;
        if (y == -1) return 0;
        return (uint)(x % y);
    }
}
