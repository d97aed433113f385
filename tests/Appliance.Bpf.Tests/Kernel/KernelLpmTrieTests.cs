using Appliance.Bpf.Maps;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>The kernel's LPM trie, where the appliance's follows it: a lookup key whose prefixlen is longer than its
/// data finds nothing, not even a default route (trie_lookup_elem returns NULL before it walks the trie).</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelLpmTrieTests
{
    [PrivilegedFact]
    public void AKeyPrefixLongerThanTheKeyFindsNothing()
    {
        int fd = BpfSyscall.CreateMap((int)BpfMapType.LpmTrie, 8, 4, 8, "mapp_lpm", BpfMapFlags.NoPrealloc);
        try
        {
            BpfSyscall.UpdateElem(fd, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, BitConverter.GetBytes(7u));
            var value = new byte[4];
            Assert.True(BpfSyscall.LookupElem(fd, new byte[] { 32, 0, 0, 0, 10, 0, 1, 1 }, value));
            Assert.Equal(7u, BitConverter.ToUInt32(value));
            Assert.False(BpfSyscall.LookupElem(fd, new byte[] { 33, 0, 0, 0, 10, 0, 1, 1 }, value));
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
