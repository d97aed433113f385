// The hostile-input campaign: far more cases than CI runs, sharper mutations (README "Fuzzing").
//   bpf OBJDIR OUTDIR SECONDS SEED [FILE…]   mutated objects (OBJDIR/*.o): loader, maps, verifier, JIT, both engines
//   shapes OBJECT                            pathological program shapes by size: load, verify, compile and run times
switch (args.FirstOrDefault())
{
    case "bpf": BpfCampaign.Run(args[1..]); break;
    case "shapes": ProgramShapes.Run(File.ReadAllBytes(args[1])); break;
    default:
        Console.Error.WriteLine("usage: Appliance.Fuzz bpf OBJDIR OUTDIR SECONDS SEED [FILE...] | shapes OBJECT");
        Environment.Exit(2);
        break;
}
