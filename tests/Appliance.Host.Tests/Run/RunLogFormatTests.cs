using System.Text.Json;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Run;

/// <summary>`run --log-format json`: everything the published binary writes on stderr — the host's lines (start,
/// reload, refused reload, stop) and the datapath's and runtime's (pair created, port claimed, forwarding,
/// clean-up) — is one JSON object per line with time, level, source and message.</summary>
[Collection(KernelCollection.Name)]
public sealed class RunLogFormatTests
{
    [PrivilegedFact]
    public void EveryStderrLineOfAJsonRunIsAJsonObject()
    {
        using var board = new RunBoard();
        board.WriteConfig(peerPolicy: "pass");
        using var app = ApplianceProcess.Start(board.ConfigFile, board.Socket, "--log-format", "json", "--leds", "none");
        app.WaitReady();
        Assert.True(board.TenantPings(), app.Output);

        var valid = File.ReadAllText(board.ConfigFile);
        File.WriteAllText(board.ConfigFile, valid.Replace("\"policy\": \"pass\"", "\"policy\": \"maybe\""));
        Assert.Equal(1, board.Cli("reload").ExitCode);
        Assert.True(app.StdErrShows("reload refused"), app.Output);
        File.WriteAllText(board.ConfigFile, valid);
        Assert.Equal(0, board.Cli("reload").ExitCode);
        Assert.Equal(0, app.Signal(15));

        var lines = app.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 5, app.Output);
        var sources = new HashSet<string>();
        var levels = new HashSet<string>();
        foreach (var line in lines)
        {
            JsonElement o;
            try
            {
                using var doc = JsonDocument.Parse(line);
                o = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"stderr line is not JSON ({e.Message}): {line}\n{app.Output}");
            }
            Assert.Equal(JsonValueKind.Object, o.ValueKind);
            Assert.True(DateTime.TryParse(o.GetProperty("time").GetString(), out _), line);
            var level = o.GetProperty("level").GetString()!;
            Assert.Contains(level, new[] { "debug", "info", "warn", "error" });
            levels.Add(level);
            sources.Add(o.GetProperty("source").GetString()!);
            Assert.False(string.IsNullOrEmpty(o.GetProperty("message").GetString()), line);
        }
        // The host (source "run"), the runtime and the datapath's reconciler all wrote through the one logger.
        Assert.Contains("run", sources);
        Assert.Contains("runtime", sources);
        Assert.Contains("error", levels); // the refused reload
        var portClaimed = lines.Select(l => JsonDocument.Parse(l).RootElement)
            .First(o => o.GetProperty("message").GetString() == "port claimed");
        Assert.Equal(board.Port, portClaimed.GetProperty("port").GetString());
        Assert.Equal(JsonValueKind.Number, portClaimed.GetProperty("pairs").ValueKind);
    }
}
