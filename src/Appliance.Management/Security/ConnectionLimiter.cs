using System.Net;

namespace Appliance.Management.Security;

/// <summary>
/// Connection slots of one listener, with a total and a per-address limit (issue 12.3). Connections that have not
/// authenticated yet are kept in arrival order; when a limit is reached, a new connection takes the slot of the oldest
/// unauthenticated connection in that limit's scope (the same address for the per-address limit, any address for the
/// total), which is closed. A connection is refused only when every slot in scope belongs to an authenticated
/// connection. So idle connections that never authenticate cannot keep the owner out: a new connection always gets
/// in unless the owner's own authenticated connections fill the listener, and one address can never hold more than
/// its share nor push out other addresses' connections.
/// </summary>
internal sealed class ConnectionLimiter(int maxTotal, int maxPerAddress)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly LinkedList<Slot> _unauthenticated = new();
    private int _total;
    private long _evicted;
    private long _refused;

    /// <summary>Connections holding a slot now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Unauthenticated connections closed to make room for a new one.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>New connections refused because every slot in scope was authenticated.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Takes a slot for a connection from <paramref name="address"/>, closing (through its <paramref name="close"/>
    /// callback) the oldest unauthenticated connection in scope if a limit is reached. Null when refused.
    /// </summary>
    public Slot? TryAcquire(IPAddress address, Action close)
    {
        Slot? victim = null;
        Slot slot;
        lock (_gate)
        {
            _perAddress.TryGetValue(address, out var fromAddress);
            if (fromAddress >= maxPerAddress)
            {
                victim = OldestUnauthenticated(address);
            }
            else if (_total >= maxTotal)
            {
                victim = OldestUnauthenticated(null);
            }

            if ((fromAddress >= maxPerAddress || _total >= maxTotal) && victim is null)
            {
                _refused++;
                return null;
            }

            if (victim is not null)
            {
                ReleaseLocked(victim);
                _evicted++;
            }

            slot = new Slot(this, address, close);
            slot.Node = _unauthenticated.AddLast(slot);
            _total++;
            _perAddress[address] = _perAddress.GetValueOrDefault(address) + 1;
        }

        // Outside the lock: aborting runs transport code.
        victim?.Close();
        return slot;
    }

    private Slot? OldestUnauthenticated(IPAddress? address)
    {
        for (var node = _unauthenticated.First; node is not null; node = node.Next)
        {
            if (address is null || node.Value.Address.Equals(address))
            {
                return node.Value;
            }
        }

        return null;
    }

    private void ReleaseLocked(Slot slot)
    {
        if (slot.Released)
        {
            return;
        }

        slot.Released = true;
        if (slot.Node is not null)
        {
            _unauthenticated.Remove(slot.Node);
            slot.Node = null;
        }

        _total--;
        var left = _perAddress[slot.Address] - 1;
        if (left == 0)
        {
            _perAddress.Remove(slot.Address);
        }
        else
        {
            _perAddress[slot.Address] = left;
        }
    }

    /// <summary>One connection's slot.</summary>
    internal sealed class Slot(ConnectionLimiter owner, IPAddress address, Action close)
    {
        internal IPAddress Address { get; } = address;

        internal LinkedListNode<Slot>? Node { get; set; }

        internal bool Released { get; set; }

        /// <summary>True once a request on the connection authenticated as an administrator.</summary>
        public bool IsAuthenticated
        {
            get
            {
                lock (owner._gate)
                {
                    return Node is null && !Released;
                }
            }
        }

        internal void Close() => close();

        /// <summary>Marks the connection authenticated: it is never closed to make room again.</summary>
        public void MarkAuthenticated()
        {
            lock (owner._gate)
            {
                if (!Released && Node is not null)
                {
                    owner._unauthenticated.Remove(Node);
                    Node = null;
                }
            }
        }

        /// <summary>Gives the slot back (idempotent).</summary>
        public void Release()
        {
            lock (owner._gate)
            {
                owner.ReleaseLocked(this);
            }
        }
    }
}
