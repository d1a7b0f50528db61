using FsCheck;
using FsCheck.Fluent;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// The name-rule state machine against a model: for any sequence of queries (to the site resolver, or to one no rule
/// admits), answers (right or wrong camera, port, id, question, resolver), connection attempts and reloads that switch
/// the cameras between enforce and learn mode, a name rule admits a camera's connection to an address exactly when that
/// camera earlier received an answer matching a query it sent, that the policy admitted, that mapped a name the rule
/// names to the address. No frame sequence lets through what the policy forbids, and none blocks what it allows; a
/// learn-mode camera's own lookups (which pass unadmitted) never admit anything, in learn mode or after it.
/// </summary>
public class PacketEngineDnsPropertyTests
{
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CAMFW_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;

    public enum Kind { Query, Answer, Syn, Reload }

    public sealed record Step(Kind Kind, int Camera, ushort Port, ushort Id, int Name, int QuestionName, int Address, bool Rogue = false)
    {
        public override string ToString() => Kind == Kind.Reload ? "Reload"
            : $"{Kind}(cam{Camera + 1} port {Port} id {Id} name {Names[Name]} q {Names[QuestionName]} addr {Addresses[Address]}{(Rogue ? " rogue resolver" : "")})";
    }

    /// <summary>A resolver no rule lets the cameras ask (a learn-mode camera's queries to it pass, unadmitted).</summary>
    private const string RogueResolver = "198.51.100.53";

    private static readonly string[] Names = ["a.fw.vendor.example", "b.fw.vendor.example", "p2p.other.example"];
    private static readonly string[] Addresses = ["203.0.113.1", "203.0.113.2", "203.0.113.3"];
    private static readonly (string Mac, string Ip)[] Cams = [(Cam1Mac.ToString(), Cam1Ip), (Cam2Mac.ToString(), Cam2Ip)];

    private static Gen<Step> StepGen =>
        from kind in Gen.Frequency((4, Gen.Constant(Kind.Query)), (8, Gen.Constant(Kind.Answer)), (4, Gen.Constant(Kind.Syn)), (1, Gen.Constant(Kind.Reload)))
        from cam in Gen.Choose(0, 1)
        from port in Gen.Elements<ushort>(40000, 40001)
        from id in Gen.Elements<ushort>(1, 2)
        from name in Gen.Choose(0, Names.Length - 1)
        from question in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, Names.Length - 1)))
        from address in Gen.Choose(0, Addresses.Length - 1)
        from rogue in Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new Step(kind, cam, port, id, name, question < 0 ? name : question, address, rogue);

    [Fact]
    public void NameRules_AnyFrameSequence_AdmitExactlyWhatTheCamerasOwnAnswersTaught()
    {
        var gen = Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(StepGen, n));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500 * Scale), Prop.ForAll(Arb.From(gen), steps => Run(steps)));
    }

    private static Core.Policy.PolicySpec Policy(bool learning)
        => Spec(rules: NameRules, edit: c => c.Name is "cam-1" or "cam-2" ? c with { Mode = learning ? Core.Policy.CameraMode.Learn : Core.Policy.CameraMode.Enforce } : c);

    private static void Run(Step[] steps)
    {
        var e = PacketEngineDnsTests.Engine();
        var learning = false;
        var pending = new Dictionary<(int Cam, ushort Port, ushort Id), int>();
        var opened = new HashSet<(int Cam, ushort Port)>();
        var openedByAnswer = new HashSet<(int Cam, ushort Port)>();
        var learned = new HashSet<(int Cam, int Address)>();
        ushort synPort = 20000;
        long now = 0;
        foreach (var step in steps)
        {
            now += 10;
            var (mac, ip) = Cams[step.Camera];
            switch (step.Kind)
            {
                case Kind.Reload:
                    learning = !learning;
                    Swap(e, Policy(learning));
                    break;
                case Kind.Query when step.Rogue:
                    // Enforced, no rule lets it out; learning, it passes (monitored) and its answer is read, unadmitted.
                    var asked = e.ProcessFrame(Query(mac, ip, step.Port, step.Id, Names[step.Name], resolver: RogueResolver), Side.Camera, now);
                    Assert.True(asked.IsPass == learning, $"{step}: engine said {asked.Reason}");
                    break;
                case Kind.Answer when step.Rogue:
                    // Passes or not by the flow (learn mode, revocation on the next reload): whichever, it teaches no admission.
                    e.ProcessFrame(Answer(mac, ip, step.Port, step.Id, AnswerA(step.Id, Names[step.QuestionName], Addresses[step.Address]), RogueResolver), Side.Uplink, now);
                    break;
                case Kind.Query:
                    var query = Query(mac, ip, step.Port, step.Id, Names[step.Name]);
                    var sent = e.ProcessFrame(query, Side.Camera, now);
                    if (sent.Reason == Reason.FlowRevoked && openedByAnswer.Remove((step.Camera, step.Port)))
                    {
                        // The port pair carried a flow a learn-mode answer opened, which the reload to enforce revoked:
                        // that first frame is dropped with the flow, and the client's retry opens a new one.
                        sent = e.ProcessFrame(query, Side.Camera, now);
                    }

                    Assert.True(sent.IsPass, $"{step}: engine said {sent.Reason}");
                    pending[(step.Camera, step.Port, step.Id)] = step.Name;
                    opened.Add((step.Camera, step.Port));
                    break;
                case Kind.Answer:
                    // An answer for QuestionName carrying Address for that name.
                    var message = AnswerA(step.Id, Names[step.QuestionName], Addresses[step.Address]);
                    var v = e.ProcessFrame(Answer(mac, ip, step.Port, step.Id, message), Side.Uplink, now);
                    if (v.Reason == Reason.FlowRevoked && openedByAnswer.Remove((step.Camera, step.Port)))
                    {
                        // Its flow was opened from the uplink while learning (an unsolicited answer, the camera's query
                        // riding on it): enforced, no rule admits that opener, so the reload revoked it.
                        opened.Remove((step.Camera, step.Port));
                        break;
                    }

                    Assert.True(opened.Contains((step.Camera, step.Port)) || learning ? v.IsPass : !v.IsPass, $"{step}: engine said {v.Reason}");
                    if (learning && !opened.Contains((step.Camera, step.Port)))
                    {
                        openedByAnswer.Add((step.Camera, step.Port));
                    }

                    if (v.IsPass && pending.TryGetValue((step.Camera, step.Port, step.Id), out var question) && question == step.QuestionName)
                    {
                        pending.Remove((step.Camera, step.Port, step.Id));

                        // An answer that passed only as a learn-mode would-be drop (its query's flow was revoked by a
                        // reload, say) is read but admits nothing: enforced, it would have been dropped.
                        if (step.QuestionName != 2 && !v.Monitored)
                        {
                            learned.Add((step.Camera, step.Address)); // only the *.fw.vendor.example names are in a rule
                        }
                    }

                    break;
                default:
                    var syn = Syn(mac, ip, Addresses[step.Address], cameraPort: synPort++);
                    var verdict = e.ProcessFrame(syn, Side.Camera, now);
                    Assert.True(learned.Contains((step.Camera, step.Address)) == (verdict.Reason == Reason.RuleMatch), $"{step}: engine said {verdict.Reason}");
                    Assert.True(verdict.IsPass == (learning || verdict.Reason == Reason.RuleMatch), $"{step}: engine said {verdict.Action}");
                    break;
            }
        }
    }

    [Fact]
    public void LearnModeRogueLookup_ThenEnforce_AdmitsNothing()
    {
        // A learn-mode camera asks a resolver no rule admits, is answered, and is then enforced: nothing admitted (issue 16 x 15).
        Run(
        [
            new Step(Kind.Reload, 0, 0, 0, 0, 0, 0),
            new Step(Kind.Query, 0, 40000, 1, 0, 0, 0, Rogue: true),
            new Step(Kind.Answer, 0, 40000, 1, 0, 0, 0, Rogue: true),
            new Step(Kind.Syn, 0, 40000, 1, 0, 0, 0),
            new Step(Kind.Reload, 0, 0, 0, 0, 0, 0),
            new Step(Kind.Syn, 0, 40000, 1, 0, 0, 0),
        ]);
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
