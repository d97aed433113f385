using System.Reflection;
using Appliance.Interop;
using Xunit;

namespace Appliance.Datapath.Tests.Interop;

/// <summary>The one errno table (Appliance.Errno) against Tmds.LibC's per-architecture constants, and the
/// messages libc gives for them.</summary>
public sealed class ErrnoTableTests
{
    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var f in typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static))
            if (f.IsLiteral && f.Name != nameof(Errno.ENOTSUPP)) names.Add(f.Name); // ENOTSUPP is kernel-internal, not libc's
        return names;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_value_is_libcs_on_this_architecture(string name)
    {
        int ours = (int)typeof(Errno).GetField(name)!.GetRawConstantValue()!;
        var libc = typeof(Tmds.Linux.LibC).GetProperty(name, BindingFlags.Public | BindingFlags.Static);
        Assert.NotNull(libc);
        Assert.Equal((int)libc.GetValue(null)!, ours);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_value_has_its_name(string name)
    {
        int value = (int)typeof(Errno).GetField(name)!.GetRawConstantValue()!;
        string expected = name == nameof(Errno.ENOTSUP) ? nameof(Errno.EOPNOTSUPP) : name; // one number, two names
        Assert.Equal(expected, Errno.Name(value));
    }

    [Fact]
    public void Messages_come_from_libc()
    {
        Assert.Equal("Operation not permitted", LibC.Describe(Errno.EPERM));
        Assert.Equal("No such device", LibC.Describe(Errno.ENODEV));
        Assert.Equal("Unknown error 524", LibC.Describe(Errno.ENOTSUPP)); // kernel-internal: libc has no text
        var e = new PlatformException("bind", "eth9", Errno.EBUSY);
        Assert.StartsWith("bind on eth9 failed: Device or resource busy (EBUSY)", e.Message);
    }
}
