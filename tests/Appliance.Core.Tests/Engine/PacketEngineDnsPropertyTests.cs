using FsCheck;
using FsCheck.Fluent;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// The name-rule state machine against a model: for any sequence of queries, answers (right or wrong camera, port,
/// id, question) and connection attempts, a name rule admits a camera's connection to an address exactly when that
/// camera earlier received an answer matching a query it sent that mapped a name the rule names to the address.
/// No frame sequence lets through what the policy forbids, and none blocks what it allows.
/// </summary>
public class PacketEngineDnsPropertyTests
{
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CAMFW_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;

    public enum Kind { Query, Answer, Syn }

    public sealed record Step(Kind Kind, int Camera, ushort Port, ushort Id, int Name, int QuestionName, int Address)
    {
        public override string ToString() => $"{Kind}(cam{Camera + 1} port {Port} id {Id} name {Names[Name]} q {Names[QuestionName]} addr {Addresses[Address]})";
    }

    private static readonly string[] Names = ["a.fw.vendor.example", "b.fw.vendor.example", "p2p.other.example"];
    private static readonly string[] Addresses = ["203.0.113.1", "203.0.113.2", "203.0.113.3"];
    private static readonly (string Mac, string Ip)[] Cams = [(Cam1Mac.ToString(), Cam1Ip), (Cam2Mac.ToString(), Cam2Ip)];

    private static Gen<Step> StepGen =>
        from kind in Gen.Elements(Kind.Query, Kind.Answer, Kind.Answer, Kind.Syn)
        from cam in Gen.Choose(0, 1)
        from port in Gen.Elements<ushort>(40000, 40001)
        from id in Gen.Elements<ushort>(1, 2)
        from name in Gen.Choose(0, Names.Length - 1)
        from question in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, Names.Length - 1)))
        from address in Gen.Choose(0, Addresses.Length - 1)
        select new Step(kind, cam, port, id, name, question < 0 ? name : question, address);

    [Fact]
    public void NameRules_AnyFrameSequence_AdmitExactlyWhatTheCamerasOwnAnswersTaught()
    {
        var gen = Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(StepGen, n));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500 * Scale), Prop.ForAll(Arb.From(gen), steps => Run(steps)));
    }

    private static void Run(Step[] steps)
    {
        var e = PacketEngineDnsTests.Engine();
        var pending = new Dictionary<(int Cam, ushort Port, ushort Id), int>();
        var opened = new HashSet<(int Cam, ushort Port)>();
        var learned = new HashSet<(int Cam, int Address)>();
        ushort synPort = 20000;
        long now = 0;
        foreach (var step in steps)
        {
            now += 10;
            var (mac, ip) = Cams[step.Camera];
            switch (step.Kind)
            {
                case Kind.Query:
                    Assert.True(e.ProcessFrame(Query(mac, ip, step.Port, step.Id, Names[step.Name]), Side.Camera, now).IsPass);
                    pending[(step.Camera, step.Port, step.Id)] = step.Name;
                    opened.Add((step.Camera, step.Port));
                    break;
                case Kind.Answer:
                    // An answer for QuestionName carrying Address for that name.
                    var message = AnswerA(step.Id, Names[step.QuestionName], Addresses[step.Address]);
                    var v = e.ProcessFrame(Answer(mac, ip, step.Port, step.Id, message), Side.Uplink, now);
                    Assert.Equal(opened.Contains((step.Camera, step.Port)), v.IsPass);
                    if (v.IsPass && pending.TryGetValue((step.Camera, step.Port, step.Id), out var asked) && asked == step.QuestionName)
                    {
                        pending.Remove((step.Camera, step.Port, step.Id));
                        if (step.QuestionName != 2)
                        {
                            learned.Add((step.Camera, step.Address)); // only the *.fw.vendor.example names are in a rule
                        }
                    }

                    break;
                default:
                    var syn = Syn(mac, ip, Addresses[step.Address], cameraPort: synPort++);
                    var verdict = e.ProcessFrame(syn, Side.Camera, now);
                    Assert.True(learned.Contains((step.Camera, step.Address)) == (verdict.Reason == Reason.RuleMatch), $"{step}: engine said {verdict.Reason}");
                    break;
            }
        }
    }

    [Fact]
    public void Model_Positive_Control()
    {
        // The property is not vacuous: this sequence must admit.
        Run(
        [
            new Step(Kind.Query, 0, 40000, 1, 0, 0, 0),
            new Step(Kind.Answer, 0, 40000, 1, 0, 0, 0),
            new Step(Kind.Syn, 0, 40000, 1, 0, 0, 0),
        ]);
        var e = PacketEngineDnsTests.Engine();
        e.ProcessFrame(Query(Cams[0].Mac, Cams[0].Ip, 40000, 1, Names[0]), Side.Camera, 1);
        e.ProcessFrame(Answer(Cams[0].Mac, Cams[0].Ip, 40000, 1, AnswerA(1, Names[0], Addresses[0])), Side.Uplink, 2);
        Assert.Equal(Reason.RuleMatch, e.ProcessFrame(Syn(Cams[0].Mac, Cams[0].Ip, Addresses[0]), Side.Camera, 3).Reason);
    }
}
