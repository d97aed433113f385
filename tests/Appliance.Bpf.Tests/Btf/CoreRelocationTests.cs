using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Btf;

/// <summary>CO-RE relocations resolved against the appliance's types (the vmlinux.h corpus program
/// `core_reads` is compared with the kernel in DifferentialTests): existence checks on types the appliance
/// lacks become 0, and a field read of such a type refuses the programs whose code holds it, naming the type
/// (the object's other programs load; test:core_mixed_types compares one with the kernel).</summary>
public sealed class CoreRelocationTests
{
    [Fact]
    public void ExistenceChecksOnKernelInternalTypesGiveZero()
    {
        var obj = TestObjects.LoadTestProgram("core_kernel_types");
        var program = LoadedProgram.LoadAll(obj, [], LinuxHelperTable.Instance).Single();
        var packet = VmTestSupport.Packet(VmTestSupport.Ipv4UdpFrame());
        packet.Mark = 5;
        using var vm = new BpfVm();
        // clang compiled 1, 1, 1 for the three checks; the relocations make the first two 0.
        Assert.Equal(11UL, vm.Run(program, ref packet).R0);
    }

    [Fact]
    public void AFieldOfATypeTheApplianceLacksRefusesOnlyTheProgramsThatReadIt()
    {
        string dir = Directory.CreateTempSubdirectory("mapp-core-").FullName;
        try
        {
            string obj = TestObjects.Compile(dir, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                struct task_struct { int pid; int tgid; } __attribute__((preserve_access_index));
                static __attribute__((noinline)) int tgid_of(struct __sk_buff *skb)
                {
                    struct task_struct *t = (void *)(long)skb->data;
                    if ((void *)(t + 1) > (void *)(long)skb->data_end)
                        return 0;
                    return t->tgid;
                }
                SEC("tc")
                int reads_task(struct __sk_buff *skb)
                {
                    struct task_struct *t = (void *)(long)skb->data;
                    void *end = (void *)(long)skb->data_end;
                    if ((void *)(t + 1) > end)
                        return 0;
                    return t->pid;
                }
                SEC("tc")
                int calls_reader(struct __sk_buff *skb) { return tgid_of(skb) + 1; }
                SEC("tc")
                int plain(struct __sk_buff *skb) { return skb->len & 3; }
                char LICENSE[] SEC("license") = "GPL";
                """);
            var loaded = BpfObjectLoader.Load(obj); // the object loads: only two of its programs are refused
            var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(loaded.Programs.Single(p => p.Name == "reads_task"), [], LinuxHelperTable.Instance));
            Assert.Contains("CO-RE relocation (FieldByteOffset) on 'task_struct'", e.Message);
            Assert.Contains("is not a type the appliance has", e.Message);
            e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(loaded.Programs.Single(p => p.Name == "calls_reader"), [], LinuxHelperTable.Instance));
            Assert.Contains("on 'task_struct'", e.Message);
            Assert.Contains("in the sub-program tgid_of", e.Message);

            var plain = LoadedProgram.Load(loaded.Programs.Single(p => p.Name == "plain"), [], LinuxHelperTable.Instance);
            using var vm = new BpfVm();
            for (int len = 60; len < 64; len++)
            {
                var packet = VmTestSupport.Packet(new byte[len]);
                Assert.Equal((ulong)(len & 3), vm.Run(plain, ref packet).R0);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

}
