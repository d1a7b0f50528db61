using Appliance.Core.Flows;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Core.Tests.Flows;

public class FlowTableTests
{
    private static FlowKey Key(uint camera, ushort cameraPort, uint peer, ushort peerPort, byte protocol = 6, bool v6 = false, ushort vlan = 0)
        => FlowKey.Create(v6 ? new IpAddr(camera) : IpAddr.FromV4(camera), cameraPort, v6 ? new IpAddr(peer) : IpAddr.FromV4(peer), peerPort, protocol, v6, vlan, 0);

    private static int Add(FlowTable t, in FlowKey key, int slot, long now, long expires)
    {
        var i = t.TryAdd(in key, slot, now);
        if (i >= 0)
        {
            ref var e = ref t.At(i);
            e.State = FlowState.Established;
            e.ExpiresMs = expires;
        }

        return i;
    }

    [Fact]
    public void Find_SameBitsDifferentFamilyOrVlan_NeverCollide()
    {
        var t = new FlowTable(16, 4);
        var v4 = Key(0x0A00_0001, 1, 0x0A00_0002, 2);
        var mappedAsV6 = FlowKey.Create(IpAddr.FromV4(0x0A00_0001), 1, IpAddr.FromV4(0x0A00_0002), 2, 6, v6: true, 0, 0);
        var otherVlan = Key(0x0A00_0001, 1, 0x0A00_0002, 2, vlan: 7);
        Add(t, v4, 0, 0, 100);

        Assert.True(t.Find(v4, 0) >= 0);
        Assert.Equal(-1, t.Find(mappedAsV6, 0));
        Assert.Equal(-1, t.Find(otherVlan, 0));
    }

    [Fact]
    public void Find_ExpiredEntry_IsReclaimedOnProbe()
    {
        var t = new FlowTable(16, 4);
        var k = Key(1, 1, 2, 2);
        Add(t, k, 1, 0, 50);

        Assert.True(t.Find(k, 49) >= 0);
        Assert.Equal(-1, t.Find(k, 50));
        Assert.Equal(0, t.Count);
        Assert.Equal(0, t.CountForCamera(1));
        Assert.Equal(1, t.Expired);
    }

    [Fact]
    public void TryAdd_Full_EvictsOnlyEvictableEntries()
    {
        var t = new FlowTable(16, 4);
        for (ushort i = 0; i < 16; i++)
        {
            Add(t, Key(1, i, 2, 2), 0, 0, 1_000);
        }

        Assert.Equal(-1, t.TryAdd(Key(1, 100, 2, 2), 0, 1)); // all established: full

        ref var half = ref t.At(t.Find(Key(1, 5, 2, 2), 1));
        half.State = FlowState.SynSent;

        Assert.True(t.TryAdd(Key(1, 100, 2, 2), 0, 1) >= 0);
        Assert.Equal(-1, t.Find(Key(1, 5, 2, 2), 1));
        Assert.Equal(1, t.Evicted);
        Assert.Equal(16, t.Count);
    }

    [Fact]
    public void Capacity_OneMillionFlows_FitsUnder256MB()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var t = new FlowTable(1_000_000, 131_072);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(96, System.Runtime.CompilerServices.Unsafe.SizeOf<FlowEntry>()); // 80 until learn mode added the volume (packets, bytes)
        // 224 MiB until each entry carried its volume for learn mode (16 bytes more per slot, 32 MiB at this size).
        Assert.True(t.MemoryBytes < 256L * 1024 * 1024, $"{t.MemoryBytes} bytes");
        Assert.True(allocated < 256L * 1024 * 1024, $"{allocated} bytes allocated");
        Assert.Equal(1_000_000, t.Capacity);
    }

    private enum Op
    {
        Add,
        Remove,
        Find,
        Maintain,
    }

    [Fact]
    public void Operations_RandomSequence_AgreeWithDictionaryModel()
    {
        // A tiny key space on a small table forces long probe runs, wrap-around and backward shifts.
        var gen = Gen.ListOf(
            from op in Gen.Elements(Op.Add, Op.Add, Op.Remove, Op.Find, Op.Maintain)
            from k in Gen.Choose(0, 40)
            from ttl in Gen.Choose(1, 50)
            from advance in Gen.Choose(0, 5)
            select (op, k, ttl, advance));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(gen), ops =>
        {
            var t = new FlowTable(32, 8);
            var model = new Dictionary<int, long>();
            long now = 0;
            foreach (var (op, k, ttl, advance) in ops)
            {
                now += advance;
                foreach (var dead in model.Where(m => m.Value <= now).Select(m => m.Key).ToList())
                {
                    model.Remove(dead);
                }

                var key = Key((uint)k, (ushort)k, 7, 7, protocol: (byte)(k % 2 == 0 ? 6 : 17));
                var index = t.Find(key, now);
                Assert.Equal(model.ContainsKey(k), index >= 0);
                switch (op)
                {
                    case Op.Add when index < 0:
                        if (Add(t, key, k % 8, now, now + ttl) >= 0)
                        {
                            model[k] = now + ttl;
                        }
                        else
                        {
                            Assert.True(t.Count >= t.Capacity);
                        }

                        break;
                    case Op.Remove when index >= 0:
                        t.Remove(index);
                        model.Remove(k);
                        break;
                    case Op.Maintain:
                        t.Maintain(now, 8);
                        break;
                }

                foreach (var (mk, expires) in model)
                {
                    var mkey = Key((uint)mk, (ushort)mk, 7, 7, protocol: (byte)(mk % 2 == 0 ? 6 : 17));
                    Assert.True(t.Find(mkey, now) >= 0, $"lost key {mk}");
                }

                Assert.True(t.Count >= model.Count);
                Assert.True(t.Count <= t.Capacity);
            }
        }));
    }

    [Fact]
    public void Snapshot_ListsLiveFlowsWithAge()
    {
        var t = new FlowTable(16, 4);
        var i = Add(t, Key(0x0A00_0001, 554, 0x0A00_0102, 50000), 3, 100, 5_000);
        t.At(i).Direction = Direction.Ingress;
        t.At(i).PolicyVersion = 4;

        var flow = Assert.Single(t.Snapshot(1_100));

        Assert.Equal(IpAddr.FromV4(0x0A00_0001), flow.CameraAddress);
        Assert.Equal(554, flow.CameraPort);
        Assert.Equal(50000, flow.PeerPort);
        Assert.Equal(3, flow.CameraSlot);
        Assert.Equal(Direction.Ingress, flow.Direction);
        Assert.Equal(4u, flow.PolicyVersion);
        Assert.Equal(1_000, flow.AgeMs);
        Assert.Equal(3_900, flow.ExpiresInMs);
        Assert.False(flow.IsIpv6);
    }
}
