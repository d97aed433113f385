using Appliance.Bpf.Elf;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>The <c>.kconfig</c> map libbpf makes for an object's <c>__kconfig</c> externs (bpf_object__init_kconfig_map,
/// bpf_object__resolve_externs): a one-entry array whose value holds every extern at its offset
/// (<see cref="KconfigExterns"/>), read-only to programs (BPF_F_RDONLY_PROG) and frozen once filled, so the verifier
/// reads its values as constants, as the kernel's does. The values are the running kernel's, as libbpf gives them to a
/// program loaded into it: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER
/// (<see cref="RunningKernel"/>), and CONFIG_* from its config, read once for the object and only when it has a
/// CONFIG_ extern (<see cref="KconfigFile"/>). Another LINUX_ name is 0 when weak; any other name is refused. A
/// CONFIG_ extern the config lacks is 0 when weak, else refuses the object, naming it; so does a value that does
/// not fit its extern. Where the kernel has no config that can be read, its weak CONFIG_ externs are 0 (libbpf
/// refuses the object there).</summary>
public static class KconfigMap
{
    public const string Name = KconfigExterns.Section;

    public static DeclaredMap Create(ElfFile elf, IReadOnlyList<KconfigExtern> externs, int size, RunningKernel kernel)
    {
        var values = new KconfigValues(externs, size);
        bool needConfig = false;
        for (int i = 0; i < externs.Count; i++)
        {
            var e = externs[i];
            if (e.Name.StartsWith("CONFIG_", StringComparison.Ordinal))
            {
                needConfig = true;
                continue;
            }
            ulong value;
            switch (e.Name)
            {
                case "LINUX_KERNEL_VERSION":
                    value = kernel.VersionCode;
                    if (value == 0)
                        throw elf.Error($"extern (__kconfig) '{e.Name}': the running kernel's release '{kernel.Release}' has no version a.b.c");
                    break;
                case "LINUX_HAS_BPF_COOKIE":
                    value = kernel.HasBpfCookie ? 1UL : 0;
                    break;
                case "LINUX_HAS_SYSCALL_WRAPPER":
                    value = kernel.HasSyscallWrapper ? 1UL : 0;
                    break;
                default:
                    if (!e.Name.StartsWith("LINUX_", StringComparison.Ordinal) || !e.Weak)
                        throw elf.Error($"extern (__kconfig) '{e.Name}' is neither a CONFIG_ value of the kernel's config nor a value libbpf knows "
                            + "(LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER; another LINUX_ name must be __weak, and is 0)");
                    value = 0;
                    break;
            }
            if (values.SetNumber(i, value) is { } why) throw elf.Error(why);
        }

        string config = "";
        if (needConfig)
        {
            var read = kernel.ReadConfig();
            config = read.Text is null ? $"the running kernel's config cannot be read ({read.Source})" : $"the running kernel's config ({read.Source}) does not set it";
            if (read.Text is { } text && KconfigFile.Apply(text, read.Source, values) is { } why)
                throw elf.Error($"the running kernel's config: {why}");
        }
        for (int i = 0; i < externs.Count; i++)
        {
            var e = externs[i];
            if (values.IsSet(i) || e.Weak) continue;
            throw elf.Error($"extern (__kconfig) '{e.Name}' has no value: {config} "
                + "(libbpf refuses the object too; declare it __weak to read 0 where the kernel lacks it)");
        }

        var def = new BpfMapDefinition(Name, BpfMapType.Array, 4, size, 1, BpfMapFlags.ReadOnlyProg)
        {
            InitialValue = values.Data,
            Frozen = true,
            FromKernel = true,
        };
        return new DeclaredMap(def, ElfConstants.SectionIndexUndefined, 0);
    }
}
