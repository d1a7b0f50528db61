namespace Appliance.Transport;

/// <summary>A port could not be opened or broke while in use; the message names the port and the cause.</summary>
public class PacketPortException : Exception
{
    /// <summary>An error without a message.</summary>
    public PacketPortException()
    {
    }

    /// <summary>An error naming the port and the cause.</summary>
    public PacketPortException(string message)
        : base(message)
    {
    }

    /// <summary>An error naming the port and the cause, caused by <paramref name="innerException"/>.</summary>
    public PacketPortException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
