using System.Diagnostics.CodeAnalysis;

namespace Appliance.Core.Policy;

/// <summary>
/// A resolved <see cref="PolicySpec"/> that cannot be compiled: something validation should have caught (two cameras
/// with one name, MAC or address; more cameras than the slot registry holds). Thrown off the data path only.
/// </summary>
public sealed class PolicyCompileException : Exception
{
    /// <summary>Creates the exception with <paramref name="message"/> naming the camera or value at fault.</summary>
    public PolicyCompileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the failure that caused it.</summary>
    public PolicyCompileException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with the default message (for serializers and frameworks that need it).</summary>
    public PolicyCompileException()
    {
    }

    [DoesNotReturn]
    internal static void Throw(string message) => throw new PolicyCompileException(message);
}
