using Appliance.Host;

return CommandLine.Run(args);
