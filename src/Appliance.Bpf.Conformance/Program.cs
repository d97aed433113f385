using Appliance.Bpf.Conformance;

return ConformancePlugin.Run(args, Console.In, Console.Out, Console.Error);
