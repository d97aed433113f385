using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Elf;
using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>The possible-CPU list libbpf reads to size a PERF_EVENT_ARRAY declared without max_entries.</summary>
public sealed class PossibleCpusTests
{
    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-3\n", 4)]
    [InlineData("0,2-5", 5)]
    [InlineData("0-1,4-7,9", 7)]
    public void ListsCountTheirCpus(string list, int count) => Assert.Equal(count, PossibleCpus.Parse(list));

    [Theory]
    [InlineData("")]
    [InlineData("3-1")]
    [InlineData("0-")]
    [InlineData("a-b")]
    [InlineData("0-1-2")]
    public void MalformedListsAreNotCounted(string list) => Assert.Null(PossibleCpus.Parse(list));

    [Fact]
    public void MatchesTheSystemsList() =>
        Assert.Equal(PossibleCpus.Parse(File.ReadAllText("/sys/devices/system/cpu/possible")), PossibleCpus.Count);

    [Fact]
    public void APerfEventArrayWithoutMaxEntriesGetsOneEntryPerPossibleCpu()
    {
        var obj = TestObjects.LoadTestProgram("perf_buffer");
        var samples = obj.Maps.Single(m => m.Name == "samples");
        Assert.Equal(BpfMapType.PerfEventArray, samples.Type);
        Assert.Equal(PossibleCpus.Count, samples.MaxEntries);
        Assert.Equal(PossibleCpus.Count, BpfMap.Create(samples).MaxEntries);
    }
}
