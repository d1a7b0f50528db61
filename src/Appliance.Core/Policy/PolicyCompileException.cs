using System.Diagnostics.CodeAnalysis;

namespace Appliance.Core.Policy;

/// <summary>
/// A resolved <see cref="PolicySpec"/> that cannot be compiled: something validation should have caught (two cameras
/// with one name, MAC or address; more cameras than the slot registry holds). Thrown off the data path only.
/// </summary>
public sealed class PolicyCompileException : Exception
{
    public PolicyCompileException(string message)
        : base(message)
    {
    }

    public PolicyCompileException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public PolicyCompileException()
    {
    }

    [DoesNotReturn]
    internal static void Throw(string message) => throw new PolicyCompileException(message);
}
