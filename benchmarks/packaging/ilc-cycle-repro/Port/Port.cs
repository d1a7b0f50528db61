namespace Port;

// Declared first so that its eight generic parameters take rows 1-8 of this module's GenericParam table and
// IPort.Receive's T comes after them (row 9): a row number the Tap module's much smaller table does not have.
public sealed class Padding<T1, T2, T3, T4, T5, T6, T7, T8>
{
}

public interface IHandler
{
    void OnFrame(int frame);
}

public interface IPort
{
    // A generic virtual method, as Appliance.Transport's IPacketPort.Receive<THandler>.
    int Receive<THandler>(ref THandler handler)
        where THandler : struct, IHandler;
}
