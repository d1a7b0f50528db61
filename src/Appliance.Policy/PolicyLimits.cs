namespace Appliance.Policy;

/// <summary>
/// Hard caps on what the loader reads. Policy files come from admins but also through the management API, so the
/// loader treats them as untrusted: every cap is checked before the work it bounds.
/// </summary>
public static class PolicyLimits
{
    /// <summary>Largest single policy file, in bytes.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>Most policy files in one policy.</summary>
    public const int MaxFiles = 1000;

    /// <summary>Longest policy file name, relative to the policy directory, in characters.</summary>
    public const int MaxNameLength = 255;

    /// <summary>
    /// Deepest folder a policy file may sit in below the policy directory (<c>a/b/c/d/e/f/g/h/x.yaml</c> is 8 deep).
    /// Deeper folders are reported, not read.
    /// </summary>
    public const int MaxDirectoryDepth = 8;

    /// <summary>Largest policy in total, in bytes.</summary>
    public const long MaxTotalBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Deepest nesting of mappings and lists. The schema needs 6 (file, section, camera, rules, rule, peer list);
    /// YamlDotNet itself has no limit, and some thousands of levels overflow the stack in its tree builders.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>Deepest chain of networks that include networks.</summary>
    public const int MaxNetworkNesting = 64;

    /// <summary>Most distinct DNS names and wildcards in one camera's rules (the engine keeps a name's matches in one word).</summary>
    public const int MaxDnsNamesPerCamera = 64;
}
