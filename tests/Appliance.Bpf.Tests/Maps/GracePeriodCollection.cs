using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>Tests that need no other VM of the process in a run: xunit runs a collection that disables parallelization
/// after all others, alone. (The definition must be in the tests' own assembly: the kernel collection's, in
/// TestSupport, only serialises its own members here.)</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GracePeriodCollection
{
    public const string Name = "grace periods (alone)";
}
