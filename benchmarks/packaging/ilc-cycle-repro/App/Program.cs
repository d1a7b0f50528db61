// TapPort itself is never used: ILC builds the cycle graph of the whole Tap module as soon as it compiles
// Plain.Names, so unreachable code is enough to crash it.
System.Console.WriteLine(Tap.Plain.Names());
