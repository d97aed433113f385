using System.Text;

namespace Appliance.Config.Tests;

/// <summary>Whatever bytes arrive, the loader answers with located errors, never an exception.</summary>
public class RobustnessTests
{
    private static void AssertLocatedErrors(ConfigLoadResult result, string what)
    {
        Assert.False(result.IsValid, what);
        Assert.NotEmpty(result.Errors);
        Assert.All(result.Errors, e =>
        {
            Assert.True(e.Line >= 1 && e.Column >= 1, $"{what}: {e}");
            Assert.StartsWith("$", e.JsonPath);
            Assert.False(string.IsNullOrWhiteSpace(e.Message), what);
        });
    }

    [Fact]
    public void EveryTruncationOfAValidConfigGivesLocatedErrors()
    {
        byte[] valid = Encoding.UTF8.GetBytes(ConfigTexts.Valid);
        for (int length = 0; length < valid.Length - 1; length++)
        {
            var result = ConfigLoader.LoadBytes(valid[..length], "config.json", "/tmp");
            AssertLocatedErrors(result, $"first {length} bytes");
        }
    }

    [Fact]
    public void RandomByteDamageNeverThrows()
    {
        byte[] valid = Encoding.UTF8.GetBytes(ConfigTexts.Valid);
        var random = new Random(20261125);
        byte[] interesting = "{}[]\",:0-e.\\/*\n\t tfn"u8.ToArray();
        int invalid = 0;
        for (int round = 0; round < 3000; round++)
        {
            byte[] bytes = (byte[])valid.Clone();
            for (int k = random.Next(1, 4); k > 0; k--)
                bytes[random.Next(bytes.Length)] = random.Next(3) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            var result = ConfigLoader.LoadBytes(bytes, "config.json", "/tmp");
            if (!result.IsValid) { AssertLocatedErrors(result, $"round {round}"); invalid++; }
            else Assert.Empty(result.Errors);
        }
        Assert.True(invalid > 2000, $"only {invalid} of 3000 damaged configs were invalid");
    }

    [Theory]
    [InlineData("config\0.json")]
    [InlineData("")]
    public void OddFileNamesDoNotThrow(string fileName)
    {
        var result = ConfigLoader.LoadFile(fileName);
        Assert.Equal(fileName, Assert.Single(result.Errors).File);
    }
}
