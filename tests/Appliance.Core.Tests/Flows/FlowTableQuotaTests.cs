using Appliance.Core.Flows;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Core.Tests.Flows;

/// <summary>
/// The quota bookkeeping of <see cref="FlowTable"/> (per-peer counts, each camera's closed and half-open lists)
/// against a plain model, through random adds, removals, list moves, evictions and timeouts on a tiny table, where
/// backward shifting moves entries (and so their list links) all the time.
/// </summary>
public class FlowTableQuotaTests
{
    private enum Op
    {
        Add,
        Remove,
        YieldOpen,
        YieldClosed,
        Settle,
        EvictCamera,
        EvictPeer,
        Expire,
    }

    private sealed record Step(Op Op, int Camera, int Peer, ushort Port, int Pick);

    private sealed class Entry(FlowKey key, int camera, int peer)
    {
        public FlowKey Key { get; } = key;

        public int Camera { get; } = camera;

        public int Peer { get; } = peer;

        public int List { get; set; } // 0 none, 1 half-open, 2 closed

        public long Order { get; set; }

        public long Expires { get; set; } = 1_000_000;
    }

    private static FlowKey Key(int camera, int peer, ushort port)
        => FlowKey.Create(IpAddr.FromV4(0x0A00_0000u + (uint)camera), port, IpAddr.FromV4(0xC000_0200u + (uint)peer), 80, 6, false, 0, 0);

    private static Gen<Step> StepGen =>
        from op in Gen.Elements(Op.Add, Op.Add, Op.Add, Op.Remove, Op.YieldOpen, Op.YieldOpen, Op.YieldClosed, Op.Settle, Op.EvictCamera, Op.EvictPeer, Op.Expire)
        from camera in Gen.Choose(0, 2)
        from peer in Gen.Choose(0, 2)
        from port in Gen.Choose(1, 40).Select(p => (ushort)p)
        from pick in Gen.Choose(0, 1_000)
        select new Step(op, camera, peer, port, pick);

    [Fact]
    public void QuotaBookkeeping_AnyOperationSequence_MatchesModel()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(Gen.ListOf(StepGen).Select(l => l.ToArray())), steps =>
        {
            var t = new FlowTable(16, 3);
            var live = new List<Entry>();
            long order = 0;
            long now = 0;
            foreach (var s in steps)
            {
                var key = Key(s.Camera, s.Peer, s.Port);
                var pick = live.Count == 0 ? null : live[s.Pick % live.Count];
                switch (s.Op)
                {
                    case Op.Add when t.Find(in key, now) < 0 && live.Count < 16:
                        var i = t.TryAdd(in key, s.Camera, now);
                        Assert.True(i >= 0);
                        t.At(i).State = FlowState.SynSent;
                        t.At(i).ExpiresMs = 1_000_000;
                        live.Add(new Entry(key, s.Camera, s.Peer));
                        break;
                    case Op.Remove when pick is not null:
                        t.Remove(t.Find(pick.Key, now));
                        live.Remove(pick);
                        break;
                    case Op.YieldOpen or Op.YieldClosed when pick is not null:
                        var list = s.Op == Op.YieldClosed ? 2 : 1;
                        t.Yield(t.Find(pick.Key, now), closed: list == 2);
                        if (pick.List != list)
                        {
                            (pick.List, pick.Order) = (list, order++);
                        }

                        break;
                    case Op.Settle when pick is not null:
                        t.Settle(t.Find(pick.Key, now));
                        pick.List = 0;
                        break;
                    case Op.EvictCamera or Op.EvictPeer:
                        var samePeer = s.Op == Op.EvictPeer;
                        var candidates = live.Where(e => e.Camera == s.Camera && e.List != 0 && (!samePeer || e.Peer == s.Peer));
                        var expected = candidates.OrderByDescending(e => e.List).ThenBy(e => e.Order).FirstOrDefault();
                        Assert.Equal(expected is not null, t.TryEvictForQuota(s.Camera, key, samePeer, now));
                        if (expected is not null)
                        {
                            Assert.True(t.Find(expected.Key, now) < 0, "the oldest closed, else oldest half-open, entry was evicted");
                            live.Remove(expected);
                        }

                        break;
                    case Op.Expire when pick is not null:
                        // Time out one entry; the next probe for it reclaims it (through the same removal path).
                        ref var entry = ref t.At(t.Find(pick.Key, now));
                        entry.ExpiresMs = now;
                        Assert.True(t.Find(pick.Key, now) < 0);
                        live.Remove(pick);
                        break;
                }

                foreach (var e in live)
                {
                    Assert.True(t.Find(e.Key, now) >= 0);
                }

                Assert.Equal(live.Count, t.Count);
                for (var c = 0; c < 3; c++)
                {
                    Assert.Equal(live.Count(e => e.Camera == c), t.CountForCamera(c));
                    for (var p = 0; p < 3; p++)
                    {
                        Assert.Equal(live.Count(e => e.Camera == c && e.Peer == p), t.CountForPeer(c, Key(c, p, 999)));
                    }
                }
            }

            // Drain every list through evictions: each comes out in model order and the lists end empty.
            for (var c = 0; c < 3; c++)
            {
                foreach (var expected in live.Where(e => e.Camera == c && e.List != 0).OrderByDescending(e => e.List).ThenBy(e => e.Order).ToList())
                {
                    Assert.True(t.TryEvictForQuota(c, Key(c, 0, 999), samePeer: false, now));
                    Assert.True(t.Find(expected.Key, now) < 0);
                }

                Assert.False(t.TryEvictForQuota(c, Key(c, 0, 999), samePeer: false, now));
            }
        }));
    }
}
