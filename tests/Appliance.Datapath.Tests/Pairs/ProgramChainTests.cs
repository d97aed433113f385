using Appliance.Datapath.Pairs;
using Xunit;

namespace Appliance.Datapath.Tests.Pairs;

public sealed class ProgramChainTests
{
    private sealed record P(string Name) : INamedProgram;

    private static string Order(ProgramChain<P> c) => string.Join(",", c.Programs.Select(p => p.Name));

    [Fact]
    public void RevisionStartsAtOneAndGrowsByOnePerChange()
    {
        var c = new ProgramChain<P>();
        Assert.Equal(1, c.Revision);
        c.Attach(new P("a"), ChainPosition.Append);
        Assert.Equal(2, c.Revision);
        c.Detach("a");
        Assert.Equal(3, c.Revision);
        Assert.Empty(c.Programs);
    }

    [Fact]
    public void AppendPrependBeforeAfterAndReplace()
    {
        var c = new ProgramChain<P>();
        c.Attach(new P("b"), ChainPosition.Append);
        c.Attach(new P("d"), ChainPosition.Append);
        c.Attach(new P("a"), ChainPosition.Prepend);
        c.Attach(new P("c"), ChainPosition.Before("d"));
        c.Attach(new P("e"), ChainPosition.After("d"));
        Assert.Equal("a,b,c,d,e", Order(c));
        c.Replace("c", new P("x"));
        Assert.Equal("a,b,x,d,e", Order(c));
        c.Attach(new P("y"), ChainPosition.After("a"));
        Assert.Equal("a,y,b,x,d,e", Order(c));
    }

    [Fact]
    public void StaleExpectedRevisionIsRefusedAndChangesNothing()
    {
        var c = new ProgramChain<P>();
        c.Attach(new P("a"), ChainPosition.Append, expectedRevision: 1);
        var ex = Assert.Throws<ChainException>(() => c.Attach(new P("b"), ChainPosition.Append, expectedRevision: 1));
        Assert.Equal(ChainError.StaleRevision, ex.Error);
        Assert.Contains("expected revision 1, but the chain is at revision 2", ex.Message);
        Assert.Equal("a", Order(c));
        Assert.Equal(2, c.Revision);
    }

    [Fact]
    public void SixtyFourthProgramIsRefused()
    {
        var c = new ProgramChain<P>();
        for (int i = 0; i < 63; i++) c.Attach(new P("p" + i), ChainPosition.Append);
        var ex = Assert.Throws<ChainException>(() => c.Attach(new P("p63"), ChainPosition.Append));
        Assert.Equal(ChainError.Full, ex.Error);
        Assert.Equal(63, c.Programs.Length);
    }

    [Fact]
    public void DuplicatesAndMissingAnchorsAreRefused()
    {
        var c = new ProgramChain<P>();
        c.Attach(new P("a"), ChainPosition.Append);
        Assert.Equal(ChainError.AlreadyAttached, Assert.Throws<ChainException>(() => c.Attach(new P("a"), ChainPosition.Prepend)).Error);
        Assert.Equal(ChainError.NotFound, Assert.Throws<ChainException>(() => c.Attach(new P("b"), ChainPosition.Before("zz"))).Error);
        Assert.Equal(ChainError.NotFound, Assert.Throws<ChainException>(() => c.Detach("zz")).Error);
        Assert.Equal(ChainError.NotFound, Assert.Throws<ChainException>(() => c.Replace("zz", new P("q"))).Error);
        Assert.Equal(2, c.Revision);
    }

    [Fact]
    public void ReaderKeepsTheSnapshotItTookWhileTheChainChanges()
    {
        var c = new ProgramChain<P>();
        c.Attach(new P("a"), ChainPosition.Append);
        var batch = c.Programs;
        c.Attach(new P("b"), ChainPosition.Append);
        c.Detach("a");
        Assert.Equal(["a"], batch.Select(p => p.Name));
        Assert.Equal("b", Order(c));
    }

    [Fact]
    public void SetReplacesTheWholeChainInOneRevision()
    {
        var c = new ProgramChain<P>();
        c.Attach(new P("a"), ChainPosition.Append);
        c.Set([new P("x"), new P("y")], expectedRevision: 2);
        Assert.Equal("x,y", Order(c));
        Assert.Equal(3, c.Revision);
        Assert.Throws<ChainException>(() => c.Set([new P("x"), new P("x")]));
    }

    /// <summary>A name the chain does not hold comes back in the error escaped and cut (a control-socket client may
    /// send any bytes): one short line, not the 100,000 characters it was given.</summary>
    [Fact]
    public void A_missing_name_is_quoted_cut_and_escaped()
    {
        var c = new ProgramChain<P>();
        c.Attach(new P("a"), ChainPosition.Append);
        var ex = Assert.Throws<ChainException>(() => c.Detach(new string('x', 100_000)));
        Assert.True(ex.Message.Length < 200, ex.Message.Length.ToString());
        Assert.Contains("(100000 characters)", ex.Message);
        ex = Assert.Throws<ChainException>(() => c.Detach("a\u001b[2Jb"));
        Assert.Contains("'a\\u001b[2Jb'", ex.Message);
    }
}
