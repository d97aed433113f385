using Appliance.Host.Control;
using Xunit;

namespace Appliance.Host.Tests.Control;

public class TextTableTests
{
    [Fact]
    public void ColumnsAlignAndCellsPrintWithoutControlCharacters()
    {
        string text = new TextTable("NAME", "OBJECT")
            .Row("count", "/etc/meta/a.o")
            .Row("x", "/tmp/\u001b[2J\nb.o")
            .ToString();
        Assert.Equal("NAME   OBJECT\ncount  /etc/meta/a.o\nx      /tmp/\\u001b[2J\\nb.o\n", text);
    }
}
