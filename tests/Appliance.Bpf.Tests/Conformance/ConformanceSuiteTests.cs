using Appliance.Bpf.Assembly;
using Appliance.Bpf.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Conformance;

/// <summary>Runs every bpf_conformance vector at cpu version v4 through the plugin's logic (assemble the
/// <c>-- asm</c> text, or take <c>-- raw</c>; verify; run with r1 = memory, r2 = length; compare the full r0),
/// and a few through the real plugin executable over its stdin/stdout protocol.</summary>
public sealed class ConformanceSuiteTests(ITestOutputHelper output)
{
    /// <summary>Vectors deliberately not counted, each with its reason. Empty: all 313 must pass.</summary>
    private static readonly Dictionary<string, string> Exclusions = new(StringComparer.Ordinal);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryVectorPassesAtV4(bool jit)
    {
        if (jit) Assert.True(Appliance.Bpf.Jit.BpfJit.IsSupported, "the JIT supports this machine");
        var failures = new List<string>();
        int passed = 0, total = 0;
        foreach (string path in ConformanceVectors.All())
        {
            total++;
            var vector = ConformanceVector.Parse(path);
            if (Exclusions.ContainsKey(vector.Name)) continue;
            string? failure = RunInProcess(vector, jit);
            if (failure is null) passed++;
            else failures.Add($"{vector.Name}: {failure}");
        }
        output.WriteLine($"bpf_conformance v4 ({(jit ? "JIT" : "interpreter")}): {passed}/{total} passed, {Exclusions.Count} excluded");
        foreach (string f in failures) output.WriteLine(f);
        Assert.Equal(313, total);
        Assert.True(failures.Count == 0, $"{failures.Count} vector(s) failed:\n{string.Join('\n', failures)}");
        Assert.Equal(total - Exclusions.Count, passed);
    }

    private static string? RunInProcess(ConformanceVector vector, bool jit)
    {
        try
        {
            ulong[] program = vector.Raw ?? BpfAssembler.Assemble(vector.Assembly);
            var (result, unavailable) = ConformancePlugin.Execute(program, vector.Memory?.ToArray(), jit);
            if (unavailable is not null) return $"not compiled: {unavailable}";
            if (vector.ExpectedError is not null) return $"expected error '{vector.ExpectedError}', got r0 0x{result.R0:x}";
            if (result.Faulted) return $"faulted: {result.Fault} at instruction {result.FaultInstruction}";
            return result.R0 == vector.ExpectedResult ? null : $"r0 = 0x{result.R0:x}, expected 0x{vector.ExpectedResult:x}";
        }
        catch (Exception e) when (vector.ExpectedError is null)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    [Theory]
    [InlineData("subnet", false)]
    [InlineData("lock_cmpxchg", false)]
    [InlineData("call_local", false)]
    [InlineData("mem-len", false)]
    [InlineData("lddw", false)]
    [InlineData("subnet", true)]
    [InlineData("lock_cmpxchg", true)]
    [InlineData("call_local", true)]
    public void PluginExecutableSpeaksTheProtocol(string name, bool jit)
    {
        var vector = ConformanceVector.Parse(Path.Combine(ConformanceVectors.Directory, name + ".data"));
        string? failure = PluginProcess.Check(vector, Path.Combine(AppContext.BaseDirectory, "bpf-conformance-plugin"), jit);
        Assert.True(failure is null, failure);
    }

    [Fact]
    public void PluginReportsAVerifierRejectionOnStderr()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        // mov %r10, 0; exit
        int code = ConformancePlugin.Run([], new StringReader("b7 0a 00 00 00 00 00 00 95 00 00 00 00 00 00 00"), stdout, stderr);
        Assert.Equal(1, code);
        Assert.Contains("instruction 0 (mov %r10, 0)", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }
}
