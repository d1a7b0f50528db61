using Port;

namespace Tap;

// As Appliance.Transport.PcapFile's PcapTapPort: a decorator that wraps the caller's handler in a generic struct
// and calls the interface's generic virtual method with it. IPort.Receive<T> -> TapPort.Receive<T> (override) ->
// IPort.Receive<TapHandler<T>> is a generic cycle that grows (T, TapHandler<T>, TapHandler<TapHandler<T>>...), and
// one of its two generic parameters is declared in the other module (Port).
public sealed class TapPort(IPort inner) : IPort
{
    public int Count { get; private set; }

    public int Receive<THandler>(ref THandler handler)
        where THandler : struct, IHandler
    {
#if NO_CYCLE
        // Control: the same decorator without wrapping the handler has no cycle; this compiles.
        return inner.Receive(ref handler);
#else
        var tap = new TapHandler<THandler>(handler, this);
        var n = inner.Receive(ref tap);
        handler = tap.Inner;
        return n;
#endif
    }

    internal void Saw() => Count++;
}

public struct TapHandler<THandler>(THandler inner, TapPort owner) : IHandler
    where THandler : struct, IHandler
{
    public THandler Inner = inner;

    public void OnFrame(int frame)
    {
        owner.Saw();
        Inner.OnFrame(frame);
    }
}

public static class Plain
{
    // Any method of this module that references a generic instantiation makes ILC ask whether the module forms
    // generic cycles; that first question builds the module's cycle graph, and crashes.
    public static int Names() => new List<string> { "a", "b" }.Count;
}
