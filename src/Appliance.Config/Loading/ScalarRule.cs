namespace Appliance.Config;

/// <summary>How one scalar model type is written: what to expect, and a check returning the problem or null.</summary>
internal sealed record ScalarRule(string Expected, Func<JsonSyntaxNode, string?> Check);
