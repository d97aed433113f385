using Appliance.Host;

// Started by the kernel as PID 1 without arguments (rdinit=/usr/bin/meta-appliance): be init, never print usage and exit.
return CommandLine.Run(args.Length == 0 && Appliance.Host.Init.InitProcess.IsPid1 ? ["init"] : args);
