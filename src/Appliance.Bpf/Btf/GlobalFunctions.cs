namespace Appliance.Bpf.Btf;

/// <summary>The object's global functions as its BTF declares them (BTF_KIND_FUNC with linkage BTF_FUNC_GLOBAL), each
/// with its number of arguments (its FUNC_PROTO's parameters). The kernel, given the object's function info as
/// libbpf passes it, verifies a global function on its own, not with what each call passes, and checks each call's
/// arguments against the declared types instead (btf_check_subprog_call): a pointer argument may be read and written
/// by the function, whatever it does.</summary>
public static class GlobalFunctions
{
    private const int LinkageGlobal = 1;

    /// <summary>Name → number of arguments, for every global function <paramref name="btf"/> declares.</summary>
    public static IReadOnlyDictionary<string, int> Read(BtfTypes btf)
    {
        var globals = new Dictionary<string, int>();
        for (int id = 1; id <= btf.Count; id++)
        {
            if (btf.Kind(id) != BtfKind.Func || btf.Vlen(id) != LinkageGlobal) continue;
            int proto = btf.RefType(id);
            if (btf.Kind(proto) != BtfKind.FuncProto) throw btf.Error(id, $"is a function whose type [{proto}] is not a FUNC_PROTO");
            globals[btf.Name(id)] = btf.Vlen(proto);
        }
        return globals;
    }
}
