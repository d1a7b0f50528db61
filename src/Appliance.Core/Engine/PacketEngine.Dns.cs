using System.Runtime.CompilerServices;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Core.Engine;

// Learning names from DNS (issue 15). A camera's admitted query to port 53 is remembered; an admitted message from
// port 53 that answers a remembered query of that camera (same ports, resolver and id) is validated (a malformed one
// is dropped: the camera's resolver code is the next parser in line) and, when its question is the query's, teaches
// the camera the names it maps, before the frame is forwarded. Name rules then admit openers to addresses the camera's own answers
// gave for their names. Allocation-free.
public sealed partial class PacketEngine
{
    private const ushort DnsPort = 53;

    /// <summary>DNS over TLS (RFC 7858) and over QUIC (RFC 9250).</summary>
    private const ushort DotPort = 853;

    /// <summary>DNS over HTTPS (RFC 8484) rides on HTTPS, over TCP or QUIC.</summary>
    private const ushort HttpsPort = 443;

    /// <summary>CNAME chains longer than this are followed no further (resolvers flatten chains anyway).</summary>
    private const int MaxCnameChain = 8;

    private readonly DnsNameTable _dnsNames;
    private readonly DnsQueryTable _dnsQueries;
    private readonly DnsQueryNameLog _queryNames;
    private readonly DnsTunnelGuard _guard;

    // Per-frame results of the DNS inspection. Reset by InspectDns itself and read only for a frame it inspected, so the
    // established-flow path (not DNS) never pays to clear them.

    /// <summary>The frame being decided is counted but not reported (a rate-limited tunnel-guard event).</summary>
    private bool _quietReport;

    /// <summary>The query name the frame being decided is reported with (a <see cref="DnsQueryNameLog"/> stamp, 0: none).</summary>
    private int _reportQueryName;

    /// <summary>
    /// Set by <see cref="TcpSegment"/> for every TCP segment a tracked flow passes (cleared by <see cref="Tcp"/> first):
    /// the segment being decided starts exactly where its sender's data ended.
    /// </summary>
    private bool _segmentInOrder;

    /// <summary>Each camera's learned names (name to addresses), for the API, reports and the state file.</summary>
    public DnsNameTable DnsNames => _dnsNames;

    /// <summary>The cameras' DNS queries awaiting answers.</summary>
    public DnsQueryTable DnsQueries => _dnsQueries;

    /// <summary>The DNS tunnel guard's per-camera state.</summary>
    public DnsTunnelGuard TunnelGuard => _guard;

    /// <summary>What the DNS inspection did, in counts.</summary>
    public DnsStatistics DnsStats { get; } = new();

    /// <summary>
    /// The name camera <paramref name="cameraSlot"/> last resolved to <paramref name="address"/> (from any thread), or
    /// null when it has none. Off the hot path (allocates the string).
    /// </summary>
    public string? NameFor(int cameraSlot, IpAddr address)
        => _dnsNames.TryFindName(cameraSlot, address, out var name, out var generation) ? _dnsNames.TryGetName(name, generation) : null;

    /// <summary>
    /// Counts a camera's opener to a public address it never resolved (<c>no-dns-for-peer</c>): a camera that asks DNS
    /// for its cloud and then connects is normal; one that connects to an address it never looked up has it hard-coded.
    /// Openers only (not every frame), so the lookup stays off the established-flow path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NoteUnresolvedPeer(int slot, IpAddr peer)
    {
        if (AddressScope.IsPublic(peer) && !_dnsNames.HasAnyName(slot, peer))
        {
            Counters.RecordNoDnsForPeer(slot);
        }
    }

    /// <summary>
    /// Whether the DNS frame being decided passed as a rule would have it: an opener a rule admitted (not monitored), or a
    /// frame of a flow a rule admitted. A learn-mode or monitored camera's flows that no rule admitted are flagged; a query
    /// riding on one (sent back along a flow some unsolicited datagram opened, say) counts only if a rule admits it as an
    /// opener (<see cref="RuleAdmitsQuery"/>).
    /// </summary>
    private bool OnRuleAdmittedFlow() => _passedFlow < 0 || (_flows.At(_passedFlow).Flags & Appliance.Core.Flows.FlowFlags.Monitored) == 0;

    /// <summary>Whether the camera's rules admit its query (the frame being decided) as an opener to the resolver.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool RuleAdmitsQuery(CompiledPolicy p, int slot, ref PacketInfo info, long nowMs)
    {
        var cam = p.CameraIndexOfSlot(slot);
        return cam >= 0 && MatchRule(p, in p.Record(cam), info.Kind == L3Kind.Ipv6, Direction.Egress, info.Protocol, DnsPort, info.Destination, nowMs) >= 0;
    }

    private static bool IsLearning(CompiledPolicy p, int slot)
        => p.CameraIndexOfSlot(slot) is var index and >= 0 && p.Record(index).Learn;

    /// <summary>
    /// Whether a camera's opener to port <paramref name="port"/> (853 or 443) of <paramref name="peer"/> is encrypted DNS:
    /// anything to 853; on 443, a listed DoH resolver's address, or an address the camera's own answers gave for a
    /// listed DoH name. Openers only, never the established path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool IsEncryptedDns(CompiledPolicy p, int slot, ushort port, IpAddr peer)
        => port == DotPort || p.IsDohAddress(peer) || (p.DohNames is { } names && _dnsNames.AnyNameMatches(slot, peer, names));

    /// <summary>
    /// Whether an opener that <paramref name="rule"/> admits is encrypted DNS that the rule does not allow: the camera's
    /// TCP or UDP to port 853, or to 443 of a DoH resolver, under a rule without <c>encrypted_dns: true</c>. For openers
    /// when they are decided and for tracked flows judged again after a reload (the same test, so a reload that takes
    /// <c>encrypted_dns</c> away ends the DoH flow it had admitted).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsEncryptedDnsOpener(CompiledPolicy p, ref readonly CameraRecord r, int rule, Direction dir, byte protocol, ushort openerKey, IpAddr peer)
        => dir == Direction.Egress && openerKey is DotPort or HttpsPort && protocol is IpProtocols.Tcp or IpProtocols.Udp
            && !p.AllowsEncryptedDns(rule) && IsEncryptedDns(p, r.Slot, openerKey, peer);

    /// <summary>
    /// TCP or UDP to or from port 53, whole or a first fragment (a first fragment is read only to refuse a restricted
    /// camera's query: a query split over fragments cannot be checked).
    /// </summary>

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDns(ref PacketInfo info)
        => (info.SourcePort == DnsPort || info.DestinationPort == DnsPort) && info.HasL4
            && (info.Protocol == IpProtocols.Udp || info.Protocol == IpProtocols.Tcp);

    /// <summary>The first matching rule: address rules, then (when the set has any) name rules against learned names.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int MatchRule(CompiledPolicy p, ref readonly CameraRecord r, bool v6, Direction dir, byte protocol, ushort key, IpAddr peer, long nowMs)
    {
        var rule = r.Rules.Match(v6, dir, protocol, key, peer);
        return rule >= 0 || !r.Rules.HasNameRules ? rule : MatchByName(p, in r, v6, dir, protocol, key, peer, nowMs);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int MatchByName(CompiledPolicy p, ref readonly CameraRecord r, bool v6, Direction dir, byte protocol, ushort key, IpAddr peer, long nowMs)
    {
        // A lapsed name still admits while the camera has a live flow with the address (the one it admitted, say).
        var peerHasFlow = _flows.CountForPeer(r.Slot, peer) > 0;
        var mask = _dnsNames.MaskOf(r.Slot, peer, r.Rules, r.Queries, p.Version, nowMs, peerHasFlow);
        return r.Rules.MatchNames(v6, dir, protocol, key, mask);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision InspectDns(CompiledPolicy p, ref PacketInfo info, ReadOnlySpan<byte> bytes, Side side, long nowMs, Decision decision)
    {
        _quietReport = false;
        _reportQueryName = 0;
        var slot = decision.CameraSlot;
        if (slot < 0)
        {
            return decision;
        }

        // A query of a camera whose questions are restricted: everything that cannot be checked is refused.
        var query = side == Side.Camera && info.DestinationPort == DnsPort;
        var cam = query && !decision.Monitored ? p.CameraIndexOfSlot(slot) : -1;
        var filter = cam >= 0 ? p.Record(cam).Queries : null;
        if (info.IsFragment || bytes.IsEmpty || (uint)info.PayloadOffset > (uint)bytes.Length || (uint)info.PayloadLength > (uint)(bytes.Length - info.PayloadOffset))
        {
            return filter is null ? decision : RefuseQuery(p, cam, default);
        }

        Span<byte> asked = filter is null ? default : stackalloc byte[DnsName.MaxTextLength];
        var payload = bytes.Slice(info.PayloadOffset, info.PayloadLength);
        ReadOnlySpan<byte> message = payload;
        if (info.Protocol == IpProtocols.Tcp)
        {
            if (payload.IsEmpty)
            {
                return decision; // handshake, ACKs, FIN
            }

            if (!DnsMessage.TryUnframeTcp(payload, out message))
            {
                // Part of a message, or several: no stream reassembly here, so it teaches nothing (counted), and a
                // restricted camera's question split like that cannot be checked.
                DnsStats.TcpNotWhole++;
                return filter is null ? decision : RefuseQuery(p, cam, default);
            }

            if (filter is not null && !_segmentInOrder)
            {
                // Each checked segment must start where the camera's stream ended: a retransmission or an overlap
                // could put other bytes into the resolver's stream at the checked positions, or shift where its
                // messages start (the client retries; resolvers' clients send one query per segment, in order).
                return RefuseQuery(p, cam, default);
            }
        }

        if (query)
        {
            if (filter is not null && !QueryAllowed(filter, message, asked, out var length))
            {
                return RefuseQuery(p, cam, asked[..length]);
            }

            // A monitored query was not admitted and teaches nothing; in learn mode it does, so that the proposal can
            // name the peers the camera found by name (its answer must still match it, from the resolver it went to),
            // but its answer admits nothing through a name rule: enforced, the query would not have left (see
            // DnsNameTable). Neither does one that passed only because the camera is monitored while its tunnel guard
            // says drop; a guard that only reports lets the query go under enforcement too.
            if (!decision.Monitored || IsLearning(p, slot))
            {
                var admitted = !decision.Monitored && (OnRuleAdmittedFlow() || RuleAdmitsQuery(p, slot, ref info, nowMs));
                if (!decision.Monitored)
                {
                    decision = GuardQuery(p, slot, message, nowMs, decision);
                    admitted &= !decision.Monitored || p.CameraIndexOfSlot(slot) is var c && (c < 0 || p.Record(c).Guard != DnsGuardAction.Drop);
                }

                if (decision.IsPass)
                {
                    RememberQuery(slot, ref info, message, nowMs, admitted, p.Version);
                }
            }

            return decision;
        }

        if (side == Side.Uplink && info.SourcePort == DnsPort)
        {
            return Answer(p, slot, ref info, message, nowMs, decision);
        }

        return decision;
    }

    /// <summary>
    /// Whether a restricted camera's query may go to the resolver: one standard IN question (QR clear, opcode 0, no
    /// answer or authority records, at most the EDNS OPT record), well-formed throughout, about a name with a plain text
    /// form that the filter allows. <paramref name="name"/> holds the question's text, when it has one, for the report.
    /// </summary>
    private static bool QueryAllowed(DnsQueryFilter filter, ReadOnlySpan<byte> message, Span<byte> name, out int length)
    {
        length = 0;
        if (!DnsMessage.TryCreate(message, out var dns, out _) || dns.IsResponse || dns.Opcode != 0 || dns.QuestionCount != 1
            || dns.AnswerCount != 0 || dns.AuthorityCount != 0 || dns.AdditionalCount > 1
            || !dns.TryValidate(out _) || !dns.TryReadQuestion(out var q, out _))
        {
            return false;
        }

        if (!q.Name.TryCopyLowercase(name, out length))
        {
            length = 0;
            return false;
        }

        return q.Class == DnsTypes.ClassIn && filter.Allows(name[..length]);
    }

    /// <summary>
    /// Refuses a restricted camera's query (<see cref="Reason.DnsQueryNotAllowed"/>; a monitored camera's passes and is
    /// reported), keeping the asked name for the report.
    /// </summary>
    private Decision RefuseQuery(CompiledPolicy p, int cam, ReadOnlySpan<byte> name)
    {
        DnsStats.QueriesRefused++;
        if (!name.IsEmpty)
        {
            _reportQueryName = _queryNames.Write(name);
        }

        return Deny(p, cam, Reason.DnsQueryNotAllowed);
    }

    /// <summary>
    /// The tunnel guard on a camera's query (see <see cref="DnsTunnelGuard"/>): a tunnel-shaped one is reported as a
    /// would-be drop under its trigger's reason, or dropped where the camera's guard says <c>drop</c>; counted every
    /// time, reported once per camera and trigger per <see cref="DnsTunnelGuard.ReportIntervalMs"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision GuardQuery(CompiledPolicy p, int slot, ReadOnlySpan<byte> message, long nowMs, Decision decision)
    {
        var cam = p.CameraIndexOfSlot(slot);
        if (cam < 0 || p.Record(cam).Guard == DnsGuardAction.Off
            || !DnsMessage.TryCreate(message, out var dns, out _) || dns.IsResponse || !dns.TryReadQuestion(out var q, out _))
        {
            return decision; // what a resolver cannot read carries nothing through it
        }

        Span<byte> wire = stackalloc byte[DnsName.MaxWireLength];
        var n = q.Name.CopyWire(wire);
        var trigger = _guard.Check(p.Guard, slot, q.Type, wire[..n], nowMs);
        if (trigger == 0)
        {
            return decision;
        }

        if (_guard.ShouldReport(slot, trigger, nowMs))
        {
            Span<byte> text = stackalloc byte[DnsTunnelGuard.MaxEscapedLength];
            _reportQueryName = _queryNames.Write(text[..DnsTunnelGuard.Escape(wire[..n], text)]);
        }
        else
        {
            _quietReport = true;
        }

        return p.Record(cam).Guard == DnsGuardAction.Drop
            ? Deny(p, cam, trigger)
            : new Decision(VerdictAction.Pass, trigger, decision.RuleIndex, slot, monitored: true);
    }

    private void RememberQuery(int slot, ref PacketInfo info, ReadOnlySpan<byte> message, long nowMs, bool admitted, uint policyVersion)
    {
        if (!DnsMessage.TryCreate(message, out var dns, out _) || dns.IsResponse || dns.Opcode != 0 || dns.QuestionCount != 1
            || !dns.TryReadQuestion(out var q, out _))
        {
            DnsStats.QueriesUnreadable++;
            return;
        }

        Span<byte> name = stackalloc byte[DnsName.MaxTextLength];
        if (!q.Name.TryCopyLowercase(name, out var length))
        {
            DnsStats.QueriesUnreadable++;
            return;
        }

        var key = new DnsQueryKey(slot, info.SourcePort, info.Destination, info.DestinationPort, dns.Id, info.Protocol);
        if (_dnsQueries.Add(in key, name[..length], q.Type, q.Class, nowMs, admitted, policyVersion))
        {
            DnsStats.QueriesTracked++;
        }
    }

    private Decision Answer(CompiledPolicy p, int slot, ref PacketInfo info, ReadOnlySpan<byte> message, long nowMs, Decision decision)
    {
        var cam = p.CameraIndexOfSlot(slot);
        if (cam < 0)
        {
            return decision;
        }

        if (!DnsMessage.TryCreate(message, out var dns, out var error))
        {
            DnsStats.AnswersUnsolicited++;
            return decision; // not even a header: answers nothing the camera asked
        }

        var key = new DnsQueryKey(slot, info.DestinationPort, info.Source, info.SourcePort, dns.Id, info.Protocol);
        var pending = _dnsQueries.Find(in key, nowMs);
        if (pending < 0)
        {
            // Whatever else the flow carries is the flow's business; it teaches nothing.
            DnsStats.AnswersUnsolicited++;
            return decision;
        }

        // What claims to answer the camera's own query must be well-formed: a malformed one is dropped (the camera's
        // resolver code is the next parser in line) and the query stays open for its real answer.
        if (!dns.TryValidate(out error))
        {
            DnsStats.AnswersMalformed++;
            return Deny(p, cam, error);
        }

        Span<byte> question = stackalloc byte[DnsName.MaxTextLength];
        if (!dns.IsResponse || dns.QuestionCount != 1 || !dns.TryReadQuestion(out var q, out _)
            || !q.Name.TryCopyLowercase(question, out var qLength)
            || !_dnsQueries.QuestionMatches(pending, question[..qLength], q.Type, q.Class))
        {
            // Not the answer to that query (a spoofing attempt, or a confused resolver): the query stays open for
            // its real answer.
            DnsStats.AnswersMismatched++;
            return decision;
        }

        // The answer admits through name rules only when its query was admitted and the answer itself passed as under
        // enforcement (a learn-mode camera's monitored frames pass, but enforcement would have dropped them).
        var source = new DnsAnswerSource(
            _dnsQueries.WasAdmitted(pending, out var version) && !decision.Monitored, info.Source, info.Protocol, version);
        _dnsQueries.Remove(pending);
        if (dns.ResponseCode != 0)
        {
            return decision;
        }

        Learn(p, in p.Record(cam), dns, question[..qLength], in source, nowMs);
        return decision;
    }

    /// <summary>
    /// Teaches camera <paramref name="r"/> every address the answer gives for the question's name or a name its CNAME
    /// chain leads to: each name of the chain maps to the address, the question's name learned last (the name the
    /// camera "last resolved" for the address is the one it asked for).
    /// </summary>
    private void Learn(CompiledPolicy p, ref readonly CameraRecord r, DnsMessage dns, ReadOnlySpan<byte> question, in DnsAnswerSource source, long nowMs)
    {
        Span<byte> chain = stackalloc byte[MaxCnameChain * DnsName.MaxTextLength];
        Span<int> lengths = stackalloc int[MaxCnameChain];
        Span<byte> owner = stackalloc byte[DnsName.MaxTextLength];
        Span<byte> target = stackalloc byte[DnsName.MaxTextLength];
        question.CopyTo(chain);
        lengths[0] = question.Length;
        var count = 1;

        // Follow CNAMEs in any order: each pass adds the targets of records whose owner is already in the chain.
        for (var pass = 0; pass < MaxCnameChain; pass++)
        {
            var grew = false;
            var records = dns.Records();
            while (records.TryNext(out var rec, out _) && rec.Section == DnsSection.Answer)
            {
                if (rec.Type != DnsTypes.Cname || rec.Class != DnsTypes.ClassIn || count == MaxCnameChain
                    || !rec.Name.TryCopyLowercase(owner, out var ol) || IndexIn(chain, lengths, count, owner[..ol]) < 0
                    || !rec.TryGetCanonicalName(out var cname) || !cname.TryCopyLowercase(target, out var tl)
                    || IndexIn(chain, lengths, count, target[..tl]) >= 0)
                {
                    continue;
                }

                target[..tl].CopyTo(chain[(count * DnsName.MaxTextLength)..]);
                lengths[count++] = tl;
                grew = true;
            }

            if (!grew)
            {
                break;
            }
        }

        var minTtlMs = p.DnsMinTtlMs;
        var any = false;
        var all = dns.Records();
        while (all.TryNext(out var rec, out _) && rec.Section == DnsSection.Answer)
        {
            if (!rec.TryGetAddress(out var address) || !rec.Name.TryCopyLowercase(owner, out var ol)
                || IndexIn(chain, lengths, count, owner[..ol]) < 0)
            {
                continue;
            }

            if (!address.IsV4 && !r.AllowIpv6)
            {
                DnsStats.AaaaIgnored++;
                continue;
            }

            var expires = nowMs + Math.Max(rec.Ttl * 1000L, minTtlMs);

            // The question first, so that the chain's other names can point at it (a later policy judges the question
            // a CNAME target was reached by, not the target); then learned again, so that it is the name the camera
            // "last resolved" for the address.
            var q = _dnsNames.Learn(r.Slot, chain[..lengths[0]], address, expires, nowMs, in source);
            if (count > 1)
            {
                var viaQuestion = source with { Question = q >= 0 ? q : -2, QuestionGeneration = _dnsNames.GenerationOf(q) };
                for (var k = count - 1; k >= 1; k--)
                {
                    _dnsNames.Learn(r.Slot, chain.Slice(k * DnsName.MaxTextLength, lengths[k]), address, expires, nowMs, in viaQuestion);
                }

                _dnsNames.Learn(r.Slot, chain[..lengths[0]], address, expires, nowMs, in source);
            }

            any = true;
        }

        if (any)
        {
            DnsStats.AnswersLearned++;
        }
    }

    private static int IndexIn(ReadOnlySpan<byte> chain, ReadOnlySpan<int> lengths, int count, ReadOnlySpan<byte> name)
    {
        for (var k = 0; k < count; k++)
        {
            if (chain.Slice(k * DnsName.MaxTextLength, lengths[k]).SequenceEqual(name))
            {
                return k;
            }
        }

        return -1;
    }
}

/// <summary>
/// Counts of the engine's DNS inspection. Written by the data-plane thread only (plain increments); read from any
/// thread with volatile reads, for display.
/// </summary>
public sealed class DnsStatistics
{
    internal long QueriesTracked;
    internal long QueriesUnreadable;
    internal long AnswersLearned;
    internal long AnswersUnsolicited;
    internal long AnswersMismatched;
    internal long AnswersMalformed;
    internal long AaaaIgnored;
    internal long TcpNotWhole;
    internal long QueriesRefused;

    /// <summary>Queries remembered to match their answers.</summary>
    public long Queries => Volatile.Read(ref QueriesTracked);

    /// <summary>Queries that were not one standard question with a text name (not remembered).</summary>
    public long Unreadable => Volatile.Read(ref QueriesUnreadable);

    /// <summary>Answers that taught a camera at least one address.</summary>
    public long Learned => Volatile.Read(ref AnswersLearned);

    /// <summary>Answers that matched no query the camera sent (teach nothing).</summary>
    public long Unsolicited => Volatile.Read(ref AnswersUnsolicited);

    /// <summary>Answers with a query's ports and id but another question, or not a response (teach nothing).</summary>
    public long Mismatched => Volatile.Read(ref AnswersMismatched);

    /// <summary>Malformed messages answering a camera's query (dropped).</summary>
    public long Malformed => Volatile.Read(ref AnswersMalformed);

    /// <summary>AAAA answers to cameras without IPv6 (not learned).</summary>
    public long AaaaNotLearned => Volatile.Read(ref AaaaIgnored);

    /// <summary>TCP segments on port 53 that did not hold exactly one whole message (teach nothing).</summary>
    public long TcpSegmentsNotWhole => Volatile.Read(ref TcpNotWhole);

    /// <summary>Queries of restricted cameras refused (<see cref="Reason.DnsQueryNotAllowed"/>).</summary>
    public long Refused => Volatile.Read(ref QueriesRefused);
}

