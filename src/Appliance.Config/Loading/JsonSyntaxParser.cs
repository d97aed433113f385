using System.Text;
using System.Text.Json;

namespace Appliance.Config;

/// <summary>
/// Parses JSON into a <see cref="JsonSyntaxNode"/> tree that remembers where each value and member name
/// starts. Accepts // and /* */ comments and trailing commas (users edit the file on any PC); caps nesting.
/// A syntax error stops parsing (nothing after it can be trusted) and becomes one located error.
/// </summary>
internal static class JsonSyntaxParser
{
    public static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = ConfigLimits.MaxDepth + 2, // our own check below reports first, with a clearer message
    };

    public static JsonSyntaxNode? Parse(SourceText source, List<ConfigError> errors)
    {
        var reader = new Utf8JsonReader(source.Utf8.Span, ReaderOptions);
        var stack = new Stack<(JsonSyntaxNode Node, string? PendingName, SourcePosition NamePosition)>();
        JsonSyntaxNode? root = null;
        try
        {
            while (reader.Read())
            {
                var at = source.PositionOf(reader.TokenStartIndex);
                JsonSyntaxNode? value = null;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        var top = stack.Pop();
                        stack.Push((top.Node, reader.GetString(), at));
                        continue;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (stack.Count >= ConfigLimits.MaxDepth)
                        {
                            errors.Add(new ConfigError(source.FileName, at.Line, at.Column, PathOf(stack),
                                $"nesting deeper than {ConfigLimits.MaxDepth} levels; a config needs at most 6"));
                            return null;
                        }
                        var container = new JsonSyntaxNode(reader.TokenType == JsonTokenType.StartObject ? JsonSyntaxKind.Object : JsonSyntaxKind.Array, at);
                        Attach(stack, container, ref root);
                        stack.Push((container, null, default));
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        stack.Pop();
                        continue;
                    case JsonTokenType.String:
                        value = new JsonSyntaxNode(JsonSyntaxKind.String, at, reader.GetString());
                        break;
                    case JsonTokenType.Number:
                        value = new JsonSyntaxNode(JsonSyntaxKind.Number, at, Encoding.UTF8.GetString(reader.ValueSpan));
                        break;
                    case JsonTokenType.True: value = new JsonSyntaxNode(JsonSyntaxKind.True, at); break;
                    case JsonTokenType.False: value = new JsonSyntaxNode(JsonSyntaxKind.False, at); break;
                    case JsonTokenType.Null: value = new JsonSyntaxNode(JsonSyntaxKind.Null, at); break;
                }
                if (value is not null) Attach(stack, value, ref root);
            }
        }
        catch (JsonException e)
        {
            errors.Add(SyntaxError(source, e, PathOf(stack)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // GetString() on a string whose escapes decode to invalid UTF-16 (a lone surrogate "\ud800").
            var at = source.PositionOf(reader.TokenStartIndex);
            errors.Add(new ConfigError(source.FileName, at.Line, at.Column, PathOf(stack),
                $"invalid string: it escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF come in pairs); write the character itself"));
            return null;
        }
        return root;
    }

    private static void Attach(Stack<(JsonSyntaxNode Node, string? PendingName, SourcePosition NamePosition)> stack,
                               JsonSyntaxNode value, ref JsonSyntaxNode? root)
    {
        if (stack.Count == 0) { root = value; return; }
        var parent = stack.Pop();
        if (parent.Node.Kind == JsonSyntaxKind.Array) parent.Node.Items.Add(value);
        else parent.Node.Members.Add(new JsonSyntaxMember(parent.PendingName!, parent.NamePosition, value));
        stack.Push((parent.Node, null, default));
    }

    /// <summary>JSON path of the value being read when a syntax error struck.</summary>
    private static string PathOf(Stack<(JsonSyntaxNode Node, string? PendingName, SourcePosition NamePosition)> stack)
    {
        var path = new JsonPathBuilder();
        var frames = stack.Reverse().ToArray();
        for (int i = 0; i < frames.Length; i++)
        {
            var (node, pending, _) = frames[i];
            bool innermost = i == frames.Length - 1;
            if (node.Kind == JsonSyntaxKind.Array) path = path.Index(innermost ? node.Items.Count : node.Items.Count - 1);
            else if (!innermost) path = path.Member(node.Members[^1].Name);
            else if (pending is not null) path = path.Member(pending);
        }
        return path.ToString();
    }

    private static ConfigError SyntaxError(SourceText source, JsonException e, string path)
    {
        var at = source.PositionOf(e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
        string message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        message = ShortQuote(message);
        bool atEnd = at == source.End || message.Contains("reached end of data", StringComparison.Ordinal)
                     || message.Contains("Expected depth to be zero", StringComparison.Ordinal);
        string text = !atEnd ? $"invalid JSON: {message.TrimEnd('.')}"
            : message.Contains("comment", StringComparison.OrdinalIgnoreCase) ? "unexpected end of file inside a /* comment (close it with */)"
            : message.Contains("end of string", StringComparison.OrdinalIgnoreCase) ? "unexpected end of file inside a string (file truncated?)"
            : "unexpected end of file: an object or array is not closed (file truncated?)";
        return new ConfigError(source.FileName, at.Line, at.Column, path, text);
    }

    private const int MaxQuoted = 40;

    /// <summary>The reader's message with the text it quotes ('…') cut to <see cref="MaxQuoted"/> characters on one line:
    /// it quotes a bad literal up to the next delimiter, which can be the rest of the file.</summary>
    private static string ShortQuote(string message)
    {
        int open = message.IndexOf('\'');
        int close = open < 0 ? -1 : message.IndexOf("' ", open + 1, StringComparison.Ordinal);
        if (close < 0) return message;
        string quoted = message[(open + 1)..close];
        bool longText = quoted.Length > MaxQuoted;
        if (!longText && quoted.IndexOfAny(['\r', '\n']) < 0) return message;
        string shown = (longText ? quoted[..MaxQuoted] : quoted).ReplaceLineEndings(" ") + (longText ? "…" : "");
        return message[..(open + 1)] + shown + message[close..];
    }
}
