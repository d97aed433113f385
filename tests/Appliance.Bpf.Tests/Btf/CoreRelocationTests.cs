using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Btf;

/// <summary>CO-RE relocations resolved against the appliance's types (the vmlinux.h corpus program
/// `core_reads` is compared with the kernel in DifferentialTests): existence checks on types the appliance
/// lacks become 0, and a field read of such a type refuses the object, naming the type.</summary>
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
    public void AFieldOfATypeTheApplianceLacksRefusesTheObject()
    {
        string dir = Directory.CreateTempSubdirectory("mapp-core-").FullName;
        try
        {
            string source = Path.Combine(dir, "core_refused.bpf.c"), obj = Path.Combine(dir, "core_refused.bpf.o");
            File.WriteAllText(source, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                struct task_struct { int pid; int tgid; } __attribute__((preserve_access_index));
                SEC("tc")
                int reads_task(struct __sk_buff *skb)
                {
                    struct task_struct *t = (void *)(long)skb->data;
                    void *end = (void *)(long)skb->data_end;
                    if ((void *)(t + 1) > end)
                        return 0;
                    return t->tgid;
                }
                char LICENSE[] SEC("license") = "GPL";
                """);
            string multiarch = Shell.Run("gcc", "-dumpmachine").StdOut.Trim();
            var cc = Shell.Run("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + multiarch, "-c", source, "-o", obj);
            Assert.True(cc.ExitCode == 0, cc.StdErr);
            var e = Assert.Throws<BpfLoadException>(() => BpfObjectLoader.Load(obj));
            Assert.Contains("CO-RE relocation (FieldByteOffset) on 'task_struct'", e.Message);
            Assert.Contains("is not a type the appliance has", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
