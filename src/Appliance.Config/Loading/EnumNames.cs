using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Appliance.Config;

/// <summary>The JSON names of an enum, taken from its own source-generated converter (no reflection over attributes).</summary>
internal static class EnumNames
{
    private static readonly Dictionary<Type, string[]> Cache = [];

    public static string[] Of(Type enumType, JsonTypeInfo typeInfo)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(enumType, out var names)) return names;
            var values = Enum.GetValuesAsUnderlyingType(enumType);
            names = new string[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                object value = Enum.ToObject(enumType, values.GetValue(i)!);
                names[i] = JsonSerializer.Deserialize<string>(JsonSerializer.Serialize(value, typeInfo), ConfigJsonContext.Default.String)!;
            }
            Cache[enumType] = names;
            return names;
        }
    }
}
