namespace Appliance.Management.Client;

/// <summary>Why the appliance could not be asked at all.</summary>
public enum ManagementClientFailure
{
    /// <summary>Nothing listens there (not running, wrong address, no socket), or the connection broke.</summary>
    Unreachable,

    /// <summary>The socket exists but this user may not connect to it.</summary>
    PermissionDenied,

    /// <summary>The TLS handshake failed (unknown certificate, client certificate missing).</summary>
    TlsFailed,

    /// <summary>No answer within the client's timeout.</summary>
    TimedOut,

    /// <summary>The appliance wants a token and got none, or rejected the one sent (401).</summary>
    Unauthorized,

    /// <summary>The appliance refuses this address for a while after failed logins (429).</summary>
    RateLimited,
}

/// <summary>The appliance could not be asked: the message says why in an admin's words.</summary>
public sealed class ManagementClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ManagementClientException(ManagementClientFailure failure, string message, Exception? inner = null)
        : base(message, inner) => Failure = failure;

    /// <summary>Creates an <see cref="ManagementClientFailure.Unreachable"/> failure.</summary>
    public ManagementClientException()
        : this(ManagementClientFailure.Unreachable, "the appliance could not be reached")
    {
    }

    /// <summary>Creates an <see cref="ManagementClientFailure.Unreachable"/> failure.</summary>
    public ManagementClientException(string message)
        : this(ManagementClientFailure.Unreachable, message)
    {
    }

    /// <summary>Creates an <see cref="ManagementClientFailure.Unreachable"/> failure.</summary>
    public ManagementClientException(string message, Exception innerException)
        : this(ManagementClientFailure.Unreachable, message, innerException)
    {
    }

    /// <summary>What went wrong.</summary>
    public ManagementClientFailure Failure { get; }
}
