using System.Text.Json.Serialization;

namespace Appliance.Host.Control;

/// <summary>One request on the control socket: a verb and its arguments, sent as one JSON line.</summary>
public sealed record ControlRequest(string Verb, string[] Args, bool Json = false);

/// <summary>The answer, one JSON line: <see cref="Body"/> is text for people, or a JSON document when the
/// request asked for <c>Json</c>.</summary>
public sealed record ControlResponse(bool Ok, string Body, string? Error = null)
{
    public static ControlResponse Success(string body) => new(true, body);
    public static ControlResponse Failure(string error) => new(false, "", error);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlResponse))]
internal sealed partial class ControlJson : JsonSerializerContext;
