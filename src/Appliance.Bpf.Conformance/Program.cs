using Appliance.Bpf.Conformance;

// --jit-differential N [SEED [RUNS]]: not part of the plugin protocol; the JIT against the interpreter on N random
// programs (JitDifferential), each run RUNS times on one VM per engine (default 1), so the check also runs where only
// this NativeAOT binary does (arm64 under qemu-user).
if (args.Length >= 2 && args[0] == "--jit-differential")
{
    var report = JitDifferential.Run(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture),
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 12,
        args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1);
    Console.Out.WriteLine(report);
    foreach (var m in report.Mismatches.Take(10)) Console.Out.WriteLine(m);
    return report.Mismatches.Count == 0 && report.JitUnavailable is null ? 0 : 1;
}
return ConformancePlugin.Run(args, Console.In, Console.Out, Console.Error);
