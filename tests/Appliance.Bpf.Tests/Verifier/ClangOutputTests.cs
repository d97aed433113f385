using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Vm;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>The verifier is conservative: every example program, compiled by Debian's clang at -mcpu v1, v2
/// and v3 (-O2 -g), verifies, loads and runs on an IPv4 frame without a fault.</summary>
public sealed class ClangOutputTests
{
    public static TheoryData<string> CpuVersions() => new("v1", "v2", "v3");

    [Theory]
    [MemberData(nameof(CpuVersions))]
    public void EveryExampleProgramVerifiesAndRuns(string cpu)
    {
        string programs = Path.Combine(Repository.Root, "programs");
        string[] sources = Directory.GetFiles(programs, "*.bpf.c");
        Assert.NotEmpty(sources);
        string include = Path.Combine(programs, "include");
        string multiarch = Shell.Run("gcc", "-dumpmachine").StdOut.Trim();
        string outDir = Directory.CreateTempSubdirectory("mapp-clang-").FullName;
        try
        {
            foreach (string source in sources)
            {
                string obj = Path.Combine(outDir, Path.GetFileNameWithoutExtension(source) + ".o");
                var cc = Shell.Run("clang", "-O2", "-g", "-target", "bpf", $"-mcpu={cpu}", "-I" + include, "-I/usr/include/" + multiarch, "-c", source, "-o", obj);
                Assert.True(cc.ExitCode == 0, $"clang failed on {source}: {cc.StdErr}");
                var loaded = BpfObjectLoader.Load(obj);
                var maps = loaded.Maps.Select(d => BpfMap.Create(d)).ToArray();
                var programsLoaded = LoadedProgram.LoadAll(loaded, maps, LinuxHelperTable.Instance);
                using var vm = new BpfVm();
                foreach (var program in programsLoaded)
                {
                    var packet = Vm.VmTestSupport.Packet(Vm.VmTestSupport.Ipv4UdpFrame());
                    var r = vm.Run(program, ref packet);
                    Assert.True(r.Fault == BpfFault.None, $"{Path.GetFileName(source)} ({cpu}) {program.Name}: {r.Fault} at {r.FaultInstruction}");
                }
            }
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }
}
