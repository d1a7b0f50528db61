using Appliance.Core.Engine;

namespace Appliance.Core.Tests.Engine;

public class DropEventRingTests
{
    [Fact]
    public void TryWrite_WhenFull_CountsLostAndKeepsOldest()
    {
        var ring = new DropEventRing(4);
        for (var i = 0; i < 6; i++)
        {
            ring.TryWrite(new DropEvent { CameraSlot = i, Reason = Reason.NoRuleMatched });
        }

        Assert.Equal(2, ring.Lost);
        Assert.Equal(4, ring.Count);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(ring.TryRead(out var e));
            Assert.Equal(i, e.CameraSlot);
        }

        Assert.False(ring.TryRead(out _));
    }

    [Fact]
    public void TryRead_ConcurrentProducer_SeesEveryEventInOrder()
    {
        var ring = new DropEventRing(1024);
        const int total = 200_000;
        var producer = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                while (!ring.TryWrite(new DropEvent { CameraSlot = i }))
                {
                    Thread.SpinWait(1);
                }
            }
        });
        producer.Start();
        var expected = 0;
        while (expected < total)
        {
            if (ring.TryRead(out var e))
            {
                Assert.Equal(expected, e.CameraSlot);
                expected++;
            }
        }

        producer.Join();
        Assert.Equal(0, ring.Count);
    }
}
