namespace Appliance.Transport.LibPcap.Tests;

/// <summary>Polls for a positive outcome with a generous bound instead of sleeping a fixed time.</summary>
internal static class Eventually
{
    public static void True(Func<bool> condition, TimeSpan bound, string what)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not within {bound.TotalSeconds} s: {what}");
            }

            Thread.Sleep(50);
        }
    }
}
