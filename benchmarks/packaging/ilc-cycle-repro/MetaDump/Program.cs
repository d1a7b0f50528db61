using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

// Prints each assembly's GenericParam table (row, owner, name) with System.Reflection.Metadata: ILC's
// CycleInfoHashtable.CreateValueFromKey looks every generic parameter of a cycle up by its row number in the
// metadata of the module being analysed, also when the parameter belongs to another module.
foreach (var path in args)
{
    using var pe = new PEReader(File.OpenRead(path));
    var md = pe.GetMetadataReader();
    var count = md.GetTableRowCount(TableIndex.GenericParam);
    Console.WriteLine($"{Path.GetFileName(path)}: {count} GenericParam rows");
    for (var row = 1; row <= count; row++)
    {
        var p = md.GetGenericParameter(MetadataTokens.GenericParameterHandle(row));
        string owner = p.Parent.Kind switch
        {
            HandleKind.TypeDefinition => "type " + md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)p.Parent).Name),
            HandleKind.MethodDefinition => Method(md, (MethodDefinitionHandle)p.Parent),
            _ => p.Parent.Kind.ToString(),
        };
        Console.WriteLine($"  row {row,3}: {md.GetString(p.Name),-10} of {owner}");
    }
}

static string Method(MetadataReader md, MethodDefinitionHandle h)
{
    var m = md.GetMethodDefinition(h);
    return "method " + md.GetString(md.GetTypeDefinition(m.GetDeclaringType()).Name) + "." + md.GetString(m.Name);
}
