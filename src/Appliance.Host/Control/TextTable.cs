using System.Text;
using Appliance.Config;

namespace Appliance.Host.Control;

/// <summary>A plain text table with left-aligned columns, for `status`, `stats`, `pairs` and `programs`. Cells are
/// printed through <see cref="PrintableText"/>: a path or a map key from a config cannot break the table or reach the
/// terminal raw.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Columns => headers.Length;

    public TextTable Row(params object?[] cells)
    {
        _rows.Add(cells.Select(c => PrintableText.Escape(c?.ToString() ?? "")).ToArray());
        return this;
    }

    public override string ToString()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var r in _rows)
            for (int i = 0; i < Math.Min(r.Length, widths.Length); i++) widths[i] = Math.Max(widths[i], r[i].Length);
        var sb = new StringBuilder();
        void Line(string[] cells)
        {
            for (int i = 0; i < widths.Length; i++)
            {
                var c = i < cells.Length ? cells[i] : "";
                sb.Append(i == widths.Length - 1 ? c : c.PadRight(widths[i] + 2));
            }
            sb.Append('\n');
        }
        Line(headers);
        foreach (var r in _rows) Line(r);
        return sb.ToString();
    }
}
