using System.Collections;
using System.Globalization;
using System.Reflection;
using Appliance.Core.Engine;
using Appliance.Host.Hosting;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Syslog;
using Appliance.Syslog.Events;
using Appliance.Transport.LibPcap;
using Appliance.Transport.WinDivert;
using Appliance.Transport.Xdp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Tests.Hosting;

/// <summary>
/// Every configuration key of every options type the host binds reaches its property, through the host's own binding
/// code: the configuration-binding source generator, the same in every flavour (jit, r2r, NativeAOT). The generator
/// skips a property it cannot set (an <c>init</c> accessor on a bound instance) without a warning, and the key is then
/// ignored in the field; these tests turn that into a failure naming the key.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OptionsBindingTests
{
    /// <summary>Each options type the host binds, with its configuration section.</summary>
    public static TheoryData<string, Type> BoundOptions => new()
    {
        { "Policy", typeof(PolicyServiceOptions) },
        { "Bridge", typeof(BridgeSettings) },
        { "Engine", typeof(EngineOptions) },
        { "Management", typeof(ManagementOptions) },
        { "Syslog", typeof(SyslogOptions) },
        { "Events", typeof(SecurityEventOptions) },
        { "Bridge", typeof(LibPcapBridgeOptions) },
        { "Bridge", typeof(XdpOffloadOptions) },
        { "WinDivert", typeof(WinDivertGatewaySettings) },
    };

    [Theory]
    [MemberData(nameof(BoundOptions))]
    public void Bind_EveryPublicProperty_RoundTripsThroughConfiguration(string section, Type type)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var checks = new List<Check>();
        var counter = 1000;
        Fill(type, Activator.CreateInstance(type)!, section, [], settings, checks, ref counter);
        Assert.NotEmpty(checks);
        if (type == typeof(WinDivertGatewaySettings))
        {
            settings["Bridge:Backend"] = BridgeSettings.WinDivert; // the section is bound only for that backend
        }

        // Binding alone is under test: the validators (which reject most of these made-up values) are removed.
        using var host = ApplianceHost.Build(null, settings, services => services.RemoveAll(typeof(IValidateOptions<>).MakeGenericType(type)));
        var optionsType = typeof(IOptions<>).MakeGenericType(type);
        var bound = optionsType.GetProperty(nameof(IOptions<object>.Value))!.GetValue(host.Services.GetRequiredService(optionsType))!;

        var failures = new List<string>();
        foreach (var check in checks)
        {
            var actual = check.Read(bound);
            if (!Equals(check.Expected, actual))
            {
                failures.Add($"{check.Key}: configured {Show(check.Expected)}, bound {Show(actual)}{(IsInitOnly(check.Property) ? " (init-only: the binding generator cannot set it; make it settable)" : "")}");
            }
        }

        Assert.True(failures.Count == 0, $"{type.Name}: keys not bound:\n  " + string.Join("\n  ", failures));
    }

    [Fact]
    public void Build_EveryOptionsTypeOfTheAppliance_IsInTheRoundTripTable()
    {
        var configured = new HashSet<Type>();
        foreach (var backend in new[] { BridgeSettings.LibPcap, BridgeSettings.WinDivert })
        {
            using var host = ApplianceHost.Build(null, new Dictionary<string, string?> { ["Bridge:Backend"] = backend }, services =>
            {
                foreach (var descriptor in services)
                {
                    if (descriptor.ServiceType.IsGenericType
                        && descriptor.ServiceType.GetGenericTypeDefinition() is var definition
                        && (definition == typeof(IConfigureOptions<>) || definition == typeof(IValidateOptions<>))
                        && descriptor.ServiceType.GetGenericArguments()[0] is var options
                        && options.Assembly.GetName().Name is { } assembly
                        && (assembly.StartsWith("Appliance.", StringComparison.Ordinal) || assembly == typeof(ApplianceHost).Assembly.GetName().Name))
                    {
                        configured.Add(options);
                    }
                }
            });
        }

        var table = BoundOptions.Select(row => (Type)row[1]).ToHashSet();
        Assert.Empty(configured.Except(table).Select(t => t.FullName)); // a new options type: add it to BoundOptions
        Assert.Empty(table.Except(configured).Select(t => t.FullName)); // positive control: the scan finds the table's own
    }

    [Theory]
    [InlineData(typeof(ApplianceHost))]
    [InlineData(typeof(SyslogOptions))]
    public void Assembly_BindingOptions_UsesTheGeneratedBinder(Type inAssembly)
    {
        // Reflection binding in jit/r2r and generated binding in NativeAOT would test one path and ship another.
        Assert.Contains(inAssembly.Assembly.GetTypes(), t => t.Namespace == "Microsoft.Extensions.Configuration.Binder.SourceGeneration");
    }

    private sealed record Check(string Key, PropertyInfo Property, object? Expected, Func<object, object?> Read);

    /// <summary>
    /// Writes a value unlike the default into the configuration for every public property with a setter (an
    /// <c>init</c> accessor counts: that is what must fail), nested options and list elements included, and records
    /// how to read it back. A property of a type this does not know fails the test, so nothing new goes unchecked.
    /// </summary>
    private static void Fill(Type type, object defaults, string prefix, List<PropertyInfo> path, Dictionary<string, string?> settings, List<Check> checks, ref int counter)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetMethod is not { IsPublic: true } || property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
            {
                continue; // computed (Enabled, EffectivePort, HistoryDirectory...): nothing to bind
            }

            var key = $"{prefix}:{property.Name}";
            var chain = new List<PropertyInfo>(path) { property };
            var current = property.GetValue(defaults);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            counter++;
            if (TryScalar(propertyType, current, counter, out var value, out var text))
            {
                while (Equals(value, current))
                {
                    TryScalar(propertyType, current, ++counter, out value, out text); // a value the default cannot fake
                }

                settings[key] = text;
                checks.Add(new Check(key, property, value, Reader(chain)));
            }
            else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(List<>))
            {
                var element = propertyType.GetGenericArguments()[0];
                if (TryScalar(element, null, counter, out var item, out var itemText))
                {
                    settings[$"{key}:0"] = itemText;
                    checks.Add(new Check($"{key}:0", property, item, o => Reader(chain)(o) is IList { Count: 1 } list ? list[0] : null));
                }
                else
                {
                    // One element of a list of objects: its own properties, read back through element 0.
                    var elementChecks = new List<Check>();
                    Fill(element, Activator.CreateInstance(element)!, $"{key}:0", [], settings, elementChecks, ref counter);
                    var read = Reader(chain);
                    checks.AddRange(elementChecks.Select(c => c with { Read = o => read(o) is IList { Count: 1 } list ? c.Read(list[0]!) : "(no element 0)" }));
                }
            }
            else if (propertyType.IsClass && propertyType.GetConstructor(Type.EmptyTypes) is not null)
            {
                Fill(propertyType, current ?? Activator.CreateInstance(propertyType)!, key, chain, settings, checks, ref counter);
            }
            else
            {
                Assert.Fail($"{key}: the test has no value for {property.PropertyType}; teach Fill one, and make sure the binding generator supports it");
            }
        }
    }

    private static bool TryScalar(Type type, object? current, int n, out object? value, out string text)
    {
        value = type switch
        {
            _ when type == typeof(string) => $"/v{n}", // rooted: Policy:StateDirectory also places the syslog spool, which must be absolute
            _ when type == typeof(int) => n,
            _ when type == typeof(long) => n * 1_000_003L,
            _ when type == typeof(double) => n + 0.25,
            _ when type == typeof(bool) => !(bool)(current ?? false),
            _ when type == typeof(TimeSpan) => TimeSpan.FromSeconds(n),
            _ when type.IsEnum => OtherEnumValue(type, current, n),
            _ => null,
        };
        text = value switch
        {
            TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f and not Enum => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value?.ToString() ?? "",
        };
        return value is not null;
    }

    private static object OtherEnumValue(Type type, object? current, int n)
    {
        var others = Enum.GetValues(type).Cast<object>().Where(v => !v.Equals(current)).ToArray();
        return others[n % others.Length];
    }

    private static Func<object, object?> Reader(List<PropertyInfo> chain) => root =>
    {
        object? value = root;
        foreach (var property in chain)
        {
            value = value is null ? null : property.GetValue(value);
        }

        return value;
    };

    private static bool IsInitOnly(PropertyInfo property) =>
        property.SetMethod?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)) == true;

    private static string Show(object? value) => value switch
    {
        null => "null",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
