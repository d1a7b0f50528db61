namespace Appliance.Transport;

/// <summary>A port could not be opened or broke while in use; the message names the port and the cause.</summary>
public class PacketPortException : Exception
{
    public PacketPortException()
    {
    }

    public PacketPortException(string message)
        : base(message)
    {
    }

    public PacketPortException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
