using System.Globalization;
using System.Text;

namespace Appliance.Config;

/// <summary>Makes text that came from a user or a tenant safe to print on a terminal or in a log line: control
/// characters (C0, DEL, C1: escape sequences, backspace, carriage return, newline), the line and paragraph
/// separators and the bidirectional overrides are written as escapes (<c>\n</c>, <c>\r</c>, <c>\t</c>,
/// <c>\u001b</c> …), so a name or a quoted value can neither rewrite the screen nor forge or split a line.</summary>
public static class PrintableText
{
    /// <summary><paramref name="text"/> itself when it holds nothing to escape (no allocation), else the escaped copy.</summary>
    public static string Escape(string text)
    {
        int first = 0;
        while (first < text.Length && !NeedsEscape(text[first])) first++;
        if (first == text.Length) return text;
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, first);
        Append(sb, text.AsSpan(first));
        return sb.ToString();
    }

    /// <summary>Appends <paramref name="text"/> to <paramref name="sb"/>, escaped as <see cref="Escape"/> does.</summary>
    public static void Append(StringBuilder sb, ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            int clean = 0;
            while (clean < text.Length && !NeedsEscape(text[clean])) clean++;
            sb.Append(text[..clean]); // runs that need nothing go in whole
            if (clean == text.Length) return;
            char c = text[clean];
            text = text[(clean + 1)..];
            if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The longest text <see cref="Quote"/> echoes whole.</summary>
    public const int QuoteLimit = 64;

    /// <summary><paramref name="text"/> as a message echoes what a user gave: in single quotes, escaped, and cut
    /// after <see cref="QuoteLimit"/> characters with its length said ("'aaaa…' (1048576 characters)"), so a
    /// megabyte argument gives a one-line error, not a megabyte of it.</summary>
    public static string Quote(string text)
    {
        if (text.Length <= QuoteLimit) return $"'{Escape(text)}'";
        int cut = char.IsHighSurrogate(text[QuoteLimit - 1]) ? QuoteLimit - 1 : QuoteLimit; // never half a character
        return $"'{Escape(text[..cut])}…' ({text.Length} characters)";
    }

    /// <summary>True for the characters <see cref="Escape"/> rewrites.</summary>
    public static bool NeedsEscape(char c) =>
        char.IsControl(c) // U+0000–001F, U+007F–009F
        || c is '\u2028' or '\u2029' // line and paragraph separators
        || c is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069'); // bidi marks, embeddings, overrides, isolates
}
