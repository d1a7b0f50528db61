using Appliance.TestSupport;
using Appliance.TestSupport.Netns;

namespace Appliance.Transport.LibPcap.Tests;

public sealed class InterfacePreparationTests
{
    private static string Feature(NetnsLab lab, string ns, string link, string feature)
    {
        foreach (var line in lab.Exec(ns, "ethtool", "-k", link).Split('\n'))
        {
            if (line.StartsWith(feature + ":", StringComparison.Ordinal))
            {
                return line[(feature.Length + 1)..].Trim();
            }
        }

        throw new InvalidOperationException($"{feature} not listed");
    }

    [RootFact]
    public void Prepare_VethPair_TurnsOffloadsOffOnBoth()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("i");
        var (a, b) = lab.AddVeth(ns, ns);
        Assert.StartsWith("on", Feature(lab, ns, a, "tcp-segmentation-offload"), StringComparison.Ordinal);

        var prepared = NetnsLab.InNamespace(ns, () => InterfacePreparation.Prepare(a, b));

        Assert.Equal(2, prepared.Count);
        Assert.All(prepared, p => Assert.Contains("tso", p.TurnedOff));
        Assert.All(prepared, p => Assert.Equal(1500, p.Mtu));
        foreach (var link in new[] { a, b })
        {
            foreach (var feature in new[] { "generic-receive-offload", "large-receive-offload", "tcp-segmentation-offload", "generic-segmentation-offload", "rx-checksumming", "tx-checksumming" })
            {
                Assert.StartsWith("off", Feature(lab, ns, link, feature), StringComparison.Ordinal);
            }
        }
    }

    [RootFact]
    public void Prepare_MtuMismatch_ThrowsNamingBoth()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("i");
        var (a, _) = lab.AddVeth(ns, ns);
        var (c, _) = lab.AddVeth(ns, ns);
        lab.Exec(ns, "ip", "link", "set", c, "mtu", "9000");

        var ex = Assert.Throws<InvalidOperationException>(() => NetnsLab.InNamespace(ns, () => InterfacePreparation.Prepare(a, c)));

        var inner = Assert.IsType<PacketPortException>(ex.InnerException);
        Assert.Contains("MTU mismatch", inner.Message, StringComparison.Ordinal);
        Assert.Contains(a, inner.Message, StringComparison.Ordinal);
        Assert.Contains(c, inner.Message, StringComparison.Ordinal);
    }

    [RootFact]
    public void Prepare_LinkDown_ThrowsSayingHowToBringItUp()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("i");
        var (a, b) = lab.AddVeth(ns, ns);
        lab.Exec(ns, "ip", "link", "set", a, "down");

        var ex = Assert.Throws<InvalidOperationException>(() => NetnsLab.InNamespace(ns, () => InterfacePreparation.Prepare(a, b)));

        var inner = Assert.IsType<PacketPortException>(ex.InnerException);
        Assert.Contains($"ip link set {a} up", inner.Message, StringComparison.Ordinal);
    }

    [RootFact]
    public void CheckLink_MissingInterface_Throws()
    {
        var ex = Assert.Throws<PacketPortException>(() => InterfacePreparation.CheckLink("cfnosuch1"));
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }
}
