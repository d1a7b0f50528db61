using System.Runtime.CompilerServices;
using Appliance.Core.Flows;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Core.Engine;

// The stateful path: openers are decided against the compiled rules and tracked; everything else must belong to a
// tracked flow. A flow is keyed camera-relative (camera end, peer end), so the frame's side picks the orientation.
public sealed partial class PacketEngine
{
    private const byte Fin = (byte)TcpFlags.Fin;
    private const byte Syn = (byte)TcpFlags.Syn;
    private const byte Rst = (byte)TcpFlags.Rst;
    private const byte Ack = (byte)TcpFlags.Ack;

    /// <summary><see cref="FindCurrent"/>: the flow existed and the policy in force revoked it.</summary>
    private const int Revoked = -2;

    /// <summary>
    /// How far below its sender's sequence end a RST or FIN may start. A live sender's RST carries its next sequence
    /// number; a host that lost the connection (a rebooted camera) answers with the acknowledgment number it was sent,
    /// at most a window below. 64 KiB against 2^32: a blind guess succeeds once in 65,536 tries per port pair.
    /// </summary>
    private const uint CloseWindow = 65_536;

    /// <summary>
    /// How far past the sequence end the engine saw a segment may start and still move it: segments lost before the
    /// bridge leave such gaps. A forged segment must land within this to move the end; it never stops a frame.
    /// </summary>
    private const uint SequenceGap = 262_144;

    private const byte EchoRequestV4 = 8;
    private const byte EchoReplyV4 = 0;
    private const byte EchoRequestV6 = 128;
    private const byte EchoReplyV6 = 129;

    /// <summary>A unicast IP frame between camera <paramref name="cam"/> and a peer; <paramref name="dir"/> is the frame's direction.</summary>
    private Decision Unicast(CompiledPolicy p, int cam, ref PacketInfo info, Direction dir, bool v6, long nowMs)
    {
        var fromCamera = dir == Direction.Egress;
        var camera = fromCamera ? info.Source : info.Destination;
        var peer = fromCamera ? info.Destination : info.Source;
        _passedFlow = -1;

        // A later fragment has no ports: it rides on the first fragment of its datagram or not at all.
        if (info.IsFragment && info.FragmentOffset != 0)
        {
            return LaterFragment(p, cam, ref info, camera, peer, fromCamera, v6, nowMs);
        }

        var cameraPort = fromCamera ? info.SourcePort : info.DestinationPort;
        var peerPort = fromCamera ? info.DestinationPort : info.SourcePort;
        Decision verdict;
        switch (info.Protocol)
        {
            case IpProtocols.Tcp:
                verdict = Tcp(p, cam, ref info, FlowKey.Create(camera, cameraPort, peer, peerPort, IpProtocols.Tcp, v6, info.OuterVlan, info.InnerVlan), dir, v6, nowMs);
                break;
            case IpProtocols.Icmp when !v6:
            case IpProtocols.Icmpv6 when v6:
                verdict = Icmp(p, cam, ref info, camera, peer, dir, v6, nowMs);
                break;
            default:
                // UDP, and protocols without ports (keyed with port 0): pseudo-flows.
                var key = FlowKey.Create(camera, cameraPort, peer, peerPort, info.Protocol, v6, info.OuterVlan, info.InnerVlan);
                verdict = Datagram(p, cam, in key, dir, v6, info.Protocol, info.DestinationPort, nowMs);
                break;
        }

        // The flow's volume, which only learn mode reports: counted for a learn-mode camera's flows alone, so that the
        // established path of every other camera pays one test of a byte the lookup already brought in.
        if (_passedFlow >= 0 && verdict.IsPass)
        {
            ref var passed = ref _flows.At(_passedFlow);
            if ((passed.Learn & FlowLearn.Noted) != 0)
            {
                passed.Packets++;
                passed.Bytes += _frameLength;
            }
        }

        // The first fragment of a datagram that passed admits the rest of it.
        if (verdict.IsPass && info.IsFragment && info.MoreFragments)
        {
            RecordFirstFragment(p, cam, ref info, camera, peer, fromCamera, v6, nowMs);
        }

        // A frame of a tracked flow passed: an established flow may now be forwarded by the fast path.
        if (_passedFlow >= 0 && _offload is not null && verdict.IsPass && !info.IsFragment)
        {
            ConsiderOffload(_passedFlow, ref info, fromCamera);
        }

        return verdict;
    }

    private Decision Tcp(CompiledPolicy p, int cam, ref PacketInfo info, FlowKey key, Direction dir, bool v6, long nowMs)
    {
        _segmentInOrder = false;
        var flags = info.TcpFlags;

        // SYN with FIN or RST is never a real connection (scanners, fingerprinting, filter evasion).
        if ((flags & Syn) != 0 && (flags & (Fin | Rst)) != 0)
        {
            return Deny(p, cam, Reason.TcpBadFlags);
        }

        var pureSyn = (flags & (Syn | Ack)) == Syn;
        var index = FindCurrent(p, cam, in key, nowMs);
        if (index == Revoked)
        {
            return Deny(p, cam, Reason.FlowRevoked);
        }

        if (index >= 0)
        {
            ref var e = ref _flows.At(index);
            var fromOpener = e.Direction == dir;
            if (!pureSyn || (fromOpener && e.State is not (FlowState.Closing or FlowState.Closed)))
            {
                var tracked = TcpTrack(p, cam, index, ref info, fromOpener, dir == Direction.Egress, nowMs);
                if (tracked.IsPass)
                {
                    _passedFlow = index;
                }

                return tracked;
            }

            // A pure SYN that is not the live opener retransmitting: a new connection attempt on the port pair, in
            // the frame's own direction. From the side that did not open the flow it is never a retransmission (a
            // SYN-ACK carries ACK), whatever state the flow is in: decided against the rules of that direction like
            // any opener, and a refused attempt leaves the flow as it was (no state change, no new deadline).
            if (!fromOpener)
            {
                return Reopen(p, cam, index, in key, dir, v6, info.DestinationPort, SequenceEnd(ref info), nowMs);
            }

            // The opener reusing the port pair of a finished connection: decide it afresh.
            _flows.Remove(index);
        }

        if (!pureSyn)
        {
            // SYN-ACK, ACK, data, FIN or RST without a flow: nothing this policy admitted.
            return Deny(p, cam, Reason.TcpStateBypass);
        }

        var opened = Open(p, cam, in key, dir, v6, IpProtocols.Tcp, info.DestinationPort, FlowState.SynSent, _tcpHalfOpenMs, nowMs);
        if (opened.IsPass && _openedFlow >= 0)
        {
            _flows.At(_openedFlow).OpenerSequenceEnd = SequenceEnd(ref info);
        }

        return opened;
    }

    /// <summary>One past the last sequence number <paramref name="info"/>'s segment occupies (SYN and FIN count one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SequenceEnd(ref PacketInfo info)
        => info.TcpSequence + (uint)info.PayloadLength + (uint)(info.TcpFlags & Syn) / Syn + (uint)(info.TcpFlags & Fin);

    /// <summary>
    /// The TCP state machine for a tracked flow. It follows the handshake and the closing, and where each side's
    /// sequence numbers end, so that what ends a flow (RST, FIN) must come from where its sender can be: a blind
    /// attacker who knows a port pair cannot cut a camera's stream by forging them. It never drops data for being out
    /// of window (the endpoints judge that); its job is to refuse segments that cannot belong to the flow's state and
    /// to let only believable ones change that state.
    /// </summary>
    private Decision TcpTrack(CompiledPolicy p, int cam, int index, ref PacketInfo info, bool fromOpener, bool fromCamera, long nowMs)
    {
        ref var e = ref _flows.At(index);
        var flags = info.TcpFlags;
        var pass = Decision.Pass(Reason.EstablishedFlow, e.CameraSlot);
        var syn = (flags & Syn) != 0;
        var ack = (flags & Ack) != 0;
        var sequenceKnown = (e.Flags & FlowFlags.SequenceUnknown) == 0;
        if ((flags & Rst) != 0)
        {
            // A flow the fast path carries: judged against the ends the kernel tracked; unchecked only where the fast
            // path cannot say (see SequenceUnknown).
            if (!sequenceKnown && RefreshSequenceFromOffload(index))
            {
                sequenceKnown = true;
            }

            if (sequenceKnown && !RstBelievable(ref e, ref info, fromOpener, ack))
            {
                return Deny(p, cam, Reason.TcpOutOfWindow);
            }

            // An RST ends the flow; once it is ending, nothing moves its deadline out again (an RST every few
            // seconds would otherwise keep a dead flow, and its quota share, alive for ever).
            var until = nowMs + _tcpClosingMs;
            e.ExpiresMs = e.State is FlowState.Closing or FlowState.Closed ? Math.Min(e.ExpiresMs, until) : until;
            e.State = FlowState.Closed;
            EndOffload(index);
            _flows.Yield(index, closed: true);
            return pass;
        }

        switch (e.State)
        {
            case FlowState.SynSent:
                if (syn && ack != fromOpener)
                {
                    // The opener retransmits its SYN, or the responder answers (SYN-ACK). A simultaneous open (the
                    // responder's pure SYN) is a connection attempt of its own and never gets here (see Tcp).
                    if (!fromOpener)
                    {
                        // A SYN-ACK must acknowledge the opener's SYN (RFC 9293 3.10.7.3); any other is forged or
                        // stale, and taking it would let its sender pick the sequence numbers the flow then trusts.
                        if (info.TcpAcknowledgment != e.OpenerSequenceEnd)
                        {
                            return Deny(p, cam, Reason.TcpOutOfWindow);
                        }

                        e.State = FlowState.SynReceived;
                        e.Flags |= FlowFlags.Replied;
                        e.ResponderSequenceEnd = SequenceEnd(ref info);
                    }

                    e.ExpiresMs = nowMs + _tcpHalfOpenMs;
                    return pass;
                }

                break;

            case FlowState.SynReceived:
                if (syn)
                {
                    // Retransmitted SYN or SYN-ACK.
                    if (fromOpener == !ack)
                    {
                        return pass;
                    }

                    break;
                }

                if (fromOpener && ack)
                {
                    e.State = FlowState.Established;
                    e.Learn |= FlowLearn.Established;
                    e.ExpiresMs = nowMs + _tcpEstablishedMs;
                    _flows.Settle(index);
                    TcpSegment(index, ref info, fromOpener, fromCamera, nowMs);
                    return pass;
                }

                break;

            case FlowState.Established or FlowState.FinWait:
                // A SYN here is a retransmitted SYN-ACK whose ACK was lost, or an opener probing a stale connection:
                // the endpoints sort it out (challenge ACK), the flow stays. (The responder's pure SYN never gets
                // here: it is a new connection attempt, see Tcp.)
                e.ExpiresMs = nowMs + _tcpEstablishedMs;
                TcpSegment(index, ref info, fromOpener, fromCamera, nowMs);
                return pass;

            case FlowState.Closing:
                // Both sides have sent FIN: the last ACKs and retransmitted FINs pass until the deadline set when the
                // second FIN passed. Frames never extend it, or a peer could keep a closed connection open for ever.
                return pass;

            case FlowState.Closed:
                break;

            default:
                break;
        }

        return Deny(p, cam, Reason.TcpStateBypass);
    }

    /// <summary>
    /// A pure SYN from the side that did not open the tracked flow <paramref name="index"/>: an opener in its own
    /// direction <paramref name="dir"/>. Refused, it leaves the flow untouched; admitted, the new connection
    /// replaces the old one on the port pair (the endpoints cannot have both).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision Reopen(CompiledPolicy p, int cam, int index, in FlowKey key, Direction dir, bool v6, ushort destinationPort, uint sequenceEnd, long nowMs)
    {
        ref readonly var r = ref p.Record(cam);
        if (MatchRule(p, in r, v6, dir, IpProtocols.Tcp, destinationPort, key.Peer, nowMs) < 0 && !r.Monitor)
        {
            return Decision.Drop(Reason.NoRuleMatched, r.Slot);
        }

        _flows.Remove(index);
        var opened = Open(p, cam, in key, dir, v6, IpProtocols.Tcp, destinationPort, FlowState.SynSent, _tcpHalfOpenMs, nowMs);
        if (opened.IsPass && _openedFlow >= 0)
        {
            _flows.At(_openedFlow).OpenerSequenceEnd = sequenceEnd;
        }

        return opened;
    }

    /// <summary>
    /// Whether a RST on a tracked flow comes from where its sender can be. In SYN-SENT the responder's RST must
    /// acknowledge the SYN (RFC 9293 3.10.7.3); otherwise its sequence number must fall within
    /// <see cref="CloseWindow"/> below the sender's sequence end. A side not heard from yet cannot reset the flow.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool RstBelievable(ref FlowEntry e, ref PacketInfo info, bool fromOpener, bool ack)
    {
        if (!fromOpener && (e.Flags & FlowFlags.Replied) == 0)
        {
            return ack && info.TcpAcknowledgment == e.OpenerSequenceEnd;
        }

        return WithinBelow(info.TcpSequence, fromOpener ? e.OpenerSequenceEnd : e.ResponderSequenceEnd, CloseWindow);
    }

    /// <summary>True when <paramref name="sequence"/> lies in [end - window, end] (sequence space wraps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool WithinBelow(uint sequence, uint end, uint window) => end - sequence <= window;

    /// <summary>
    /// A segment of flow <paramref name="index"/> passed: moves its sender's sequence end (only by a segment that
    /// starts at most <see cref="SequenceGap"/> past it, so a blind forgery cannot drag it away) and follows its FIN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TcpSegment(int index, ref PacketInfo info, bool fromOpener, bool fromCamera, long nowMs)
    {
        ref var e = ref _flows.At(index);
        if ((e.Flags & FlowFlags.SequenceUnknown) != 0)
        {
            // The fast path carries this flow and its ends moved without the engine: a FIN is judged against the ends
            // the kernel tracked, and taken unchecked only where the fast path cannot say (see SequenceUnknown).
            if ((info.TcpFlags & Fin) == 0)
            {
                return;
            }

            if (!RefreshSequenceFromOffload(index))
            {
                TakeFin(index, fromCamera, nowMs);
                return;
            }
        }

        ref var end = ref fromOpener ? ref e.OpenerSequenceEnd : ref e.ResponderSequenceEnd;
        var sequence = info.TcpSequence;
        var sentEnd = end;
        _segmentInOrder = sequence == sentEnd;
        if (sequence - sentEnd + CloseWindow <= SequenceGap + CloseWindow)
        {
            var segmentEnd = SequenceEnd(ref info);
            if ((int)(segmentEnd - sentEnd) > 0)
            {
                end = segmentEnd;
            }
        }

        // A FIN counts only where its sender's data ends (or a retransmission of it, shortly below): one from
        // anywhere else is forged, or a copy of one long acknowledged. It passes (the endpoint discards it) but does
        // not move the flow towards closing.
        if ((info.TcpFlags & Fin) != 0 && WithinBelow(sequence, sentEnd, CloseWindow))
        {
            TakeFin(index, fromCamera, nowMs);
        }
    }

    /// <summary>A FIN of flow <paramref name="index"/> counts: the flow moves towards closing.</summary>
    private void TakeFin(int index, bool fromCamera, long nowMs)
    {
        EndOffload(index);
        ref var e = ref _flows.At(index);
        e.Flags |= fromCamera ? FlowFlags.FinFromCamera : FlowFlags.FinFromPeer;
        const FlowFlags both = FlowFlags.FinFromCamera | FlowFlags.FinFromPeer;
        if ((e.Flags & both) == both)
        {
            e.State = FlowState.Closing;
            e.ExpiresMs = nowMs + _tcpClosingMs;
            _flows.Yield(index, closed: true);
        }
        else
        {
            e.State = FlowState.FinWait;
        }
    }

    private Decision Datagram(CompiledPolicy p, int cam, in FlowKey key, Direction dir, bool v6, byte protocol, ushort destinationPort, long nowMs)
    {
        var index = FindCurrent(p, cam, in key, nowMs);
        if (index == Revoked)
        {
            return Deny(p, cam, Reason.FlowRevoked);
        }

        if (index >= 0)
        {
            ref var e = ref _flows.At(index);
            if (e.Direction != dir && (e.Flags & FlowFlags.Replied) == 0)
            {
                e.Flags |= FlowFlags.Replied;
                _flows.Settle(index); // answered: no longer yields its quota place to new openers
            }

            e.ExpiresMs = nowMs + _udpMs;
            _passedFlow = index;
            return Decision.Pass(Reason.EstablishedFlow, e.CameraSlot);
        }

        // Without a flow every datagram is an opener in its own direction (protocols without ports are keyed by 0).
        var openerKey = protocol == IpProtocols.Udp ? destinationPort : (ushort)0;
        return Open(p, cam, in key, dir, v6, protocol, openerKey, FlowState.Datagram, _udpMs, nowMs);
    }

    private Decision Icmp(CompiledPolicy p, int cam, ref PacketInfo info, IpAddr camera, IpAddr peer, Direction dir, bool v6, long nowMs)
    {
        var type = info.IcmpType;
        var protocol = info.Protocol;
        var request = v6 ? type == EchoRequestV6 : type == EchoRequestV4;
        var reply = v6 ? type == EchoReplyV6 : type == EchoReplyV4;
        if (request || reply)
        {
            // Echo pseudo-flow: the camera port holds the echo id, the peer port is 0, so request and reply meet.
            var key = FlowKey.Create(camera, info.IcmpEchoId, peer, 0, protocol, v6, info.OuterVlan, info.InnerVlan);
            var index = FindCurrent(p, cam, in key, nowMs);
            if (index == Revoked)
            {
                return Deny(p, cam, Reason.FlowRevoked);
            }

            if (index >= 0)
            {
                ref var e = ref _flows.At(index);
                var fromOpener = e.Direction == dir;
                if (request == fromOpener)
                {
                    if (reply && (e.Flags & FlowFlags.Replied) == 0)
                    {
                        e.Flags |= FlowFlags.Replied;
                        _flows.Settle(index);
                    }

                    e.ExpiresMs = nowMs + _icmpMs;
                    _passedFlow = index;
                    return Decision.Pass(Reason.EstablishedFlow, e.CameraSlot);
                }

                if (reply)
                {
                    return Deny(p, cam, Reason.UnsolicitedReply);
                }

                // A request against the flow's direction (both ends pinging with one id): judged on its own, untracked.
                return Stateless(p, cam, dir, v6, protocol, type, peer, nowMs);
            }

            return reply
                ? Deny(p, cam, Reason.UnsolicitedReply)
                : Open(p, cam, in key, dir, v6, protocol, type, FlowState.IcmpEcho, _icmpMs, nowMs);
        }

        if (v6 ? type is >= 1 and <= 4 : type is 3 or 4 or 11 or 12)
        {
            return IcmpError(p, cam, ref info, dir, v6, nowMs);
        }

        // Other ICMP (redirects, timestamps, router advertisements off-link...): only what a rule names, untracked.
        return Stateless(p, cam, dir, v6, protocol, type, peer, nowMs);
    }

    /// <summary>
    /// An ICMP error passes only when it quotes a packet of a tracked flow, and only when it travels back towards
    /// the quoted packet's sender: from the uplink, the quoted source must be the camera it is addressed to; from
    /// the camera, the quote must be a packet the camera received from the peer it is answering.
    /// </summary>
    private Decision IcmpError(CompiledPolicy p, int cam, ref PacketInfo info, Direction dir, bool v6, long nowMs)
    {
        if (!info.HasQuote)
        {
            return Deny(p, cam, Reason.IcmpErrorUnrelated);
        }

        var fromCamera = dir == Direction.Egress;
        bool consistent;
        FlowKey key;
        var echo = info.QuoteProtocol == info.Protocol;
        if (fromCamera)
        {
            consistent = info.QuoteDestination.Value == info.Source.Value && info.QuoteSource.Value == info.Destination.Value;
            key = echo
                ? FlowKey.Create(info.QuoteDestination, info.QuoteSourcePort, info.QuoteSource, 0, info.QuoteProtocol, v6, info.OuterVlan, info.InnerVlan)
                : FlowKey.Create(info.QuoteDestination, info.QuoteDestinationPort, info.QuoteSource, info.QuoteSourcePort, info.QuoteProtocol, v6, info.OuterVlan, info.InnerVlan);
        }
        else
        {
            consistent = info.QuoteSource.Value == info.Destination.Value;
            key = echo
                ? FlowKey.Create(info.QuoteSource, info.QuoteSourcePort, info.QuoteDestination, 0, info.QuoteProtocol, v6, info.OuterVlan, info.InnerVlan)
                : FlowKey.Create(info.QuoteSource, info.QuoteSourcePort, info.QuoteDestination, info.QuoteDestinationPort, info.QuoteProtocol, v6, info.OuterVlan, info.InnerVlan);
        }

        if (!consistent)
        {
            return Deny(p, cam, Reason.IcmpErrorUnrelated);
        }

        var index = FindCurrent(p, cam, in key, nowMs);
        return index >= 0 ? Decision.Pass(Reason.RelatedIcmpError, _flows.At(index).CameraSlot)
            : index == Revoked ? Deny(p, cam, Reason.FlowRevoked)
            : Deny(p, cam, Reason.IcmpErrorUnrelated);
    }

    private Decision Stateless(CompiledPolicy p, int cam, Direction dir, bool v6, byte protocol, byte type, IpAddr peer, long nowMs)
    {
        ref readonly var r = ref p.Record(cam);
        var rule = MatchRule(p, in r, v6, dir, protocol, type, peer, nowMs);
        return rule >= 0 ? Decision.Pass(Reason.RuleMatch, r.Slot, rule) : Deny(p, cam, Reason.NoRuleMatched);
    }

    /// <summary>
    /// Decides an opener against the camera's rules and, when it is admitted, tracks it. A monitored camera's
    /// would-be drop is tracked too (flagged), so that its replies are not reported one by one.
    /// </summary>
    private Decision Open(CompiledPolicy p, int cam, in FlowKey key, Direction dir, bool v6, byte protocol, ushort openerKey, FlowState state, long timeoutMs, long nowMs)
    {
        ref readonly var r = ref p.Record(cam);
        _openedFlow = -1;
        if (dir == Direction.Egress && protocol is IpProtocols.Tcp or IpProtocols.Udp)
        {
            NoteUnresolvedPeer(r.Slot, key.Peer);
        }

        var rule = MatchRule(p, in r, v6, dir, protocol, openerKey, key.Peer, nowMs);
        if (rule < 0 && !r.Monitor)
        {
            return Decision.Drop(Reason.NoRuleMatched, r.Slot);
        }

        // Encrypted DNS needs a rule that says so (see IsEncryptedDns); a monitored camera's is tracked as a would-be drop.
        var encryptedDns = rule >= 0 && IsEncryptedDnsOpener(p, in r, rule, dir, protocol, openerKey, key.Peer);
        if (encryptedDns && !r.Monitor)
        {
            return Decision.Drop(Reason.EncryptedDnsRefused, r.Slot, rule);
        }

        if (!MakeRoom(in r, in key, nowMs))
        {
            return Deny(p, cam, Reason.FlowQuotaExceeded, rule);
        }

        var index = _flows.TryAdd(in key, r.Slot, nowMs);
        if (index < 0)
        {
            return Deny(p, cam, Reason.FlowTableFull, rule);
        }

        _openedFlow = index;
        ref var e = ref _flows.At(index);
        e.State = state;
        e.Direction = dir;
        e.PolicyVersion = p.Version;
        e.ExpiresMs = nowMs + timeoutMs;
        e.Packets = 1;
        e.Bytes = _frameLength;
        if (r.Learn)
        {
            NoteOpened(index);
        }

        // Until it is answered (or established) it yields its quota place to the camera's next opener.
        _flows.Yield(index, closed: false);
        if (rule < 0 || encryptedDns)
        {
            e.Flags = FlowFlags.Monitored;
            return encryptedDns
                ? new Decision(VerdictAction.Pass, Reason.EncryptedDnsRefused, rule, r.Slot, monitored: true)
                : new Decision(VerdictAction.Pass, Reason.NoRuleMatched, Verdict.NoRule, r.Slot, monitored: true);
        }

        return Decision.Pass(Reason.RuleMatch, r.Slot, rule);
    }

    /// <summary>
    /// Quota check for a new flow of camera <paramref name="r"/> with <paramref name="key"/>'s peer. A peer holds at
    /// most its share of the camera's quota (<see cref="EngineOptions.PeerFlowSharePercent"/>), so no one address, a
    /// spoofed one included, can take all of it; the camera holds at most its quota. Either limit reached, closed and
    /// half-open flows yield: the peer's own (for its share), else the camera's (closed first, then oldest half-open).
    /// Established flows are never pushed out.
    /// </summary>
    /// <returns>False when no room could be made: the opener is refused.</returns>
    private bool MakeRoom(ref readonly CameraRecord r, in FlowKey key, long nowMs)
    {
        var quota = r.FlowQuota > 0 ? r.FlowQuota : _defaultQuota;
        var share = Math.Max(1, (int)((long)quota * _peerSharePercent / 100));
        if (_flows.CountForPeer(r.Slot, in key) >= share && !_flows.TryEvictForQuota(r.Slot, in key, samePeer: true, nowMs))
        {
            return false;
        }

        return _flows.CountForCamera(r.Slot) < quota || _flows.TryEvictForQuota(r.Slot, in key, samePeer: false, nowMs);
    }

    /// <summary>
    /// The one place a tracked flow is looked up for a frame: the slot holding <paramref name="key"/>, or -1 when
    /// there is none, or <see cref="Revoked"/> when there was one that an older policy admitted and the current one
    /// no longer allows (it is removed; the caller drops the frame as <see cref="Reason.FlowRevoked"/>). A flow
    /// that passes here is admitted by the policy in force, whatever version admitted it first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindCurrent(CompiledPolicy p, int cam, in FlowKey key, long nowMs)
    {
        var index = _flows.Find(in key, nowMs);
        if (index >= 0 && _flows.At(index).PolicyVersion != p.Version)
        {
            if (!Revalidate(p, cam, ref _flows.At(index), nowMs))
            {
                _flows.Remove(index);
                return Revoked;
            }

            // Still admitted: the fast path's entry carries the old version (so it forwards nothing); the next
            // eligible frame offers the flow again under the new one.
            _flows.At(index).Flags &= ~FlowFlags.Offloaded;
        }

        return index;
    }

    /// <summary>
    /// A flow admitted by an older policy: is its opener still allowed, for the same camera? If so it is stamped
    /// with the current version (one check per flow per reload); if not, the caller drops the frame and the flow.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Revalidate(CompiledPolicy p, int cam, ref FlowEntry e, long nowMs)
    {
        ref readonly var r = ref p.Record(cam);
        if (r.Slot != e.CameraSlot || e.Kind != FlowKind.Connection)
        {
            // The address now belongs to another camera, or a fragment entry (it carries no opener to re-check:
            // the rest of a datagram in flight across a reload is dropped, which the sender's retry absorbs).
            return false;
        }

        var v6 = e.Family == 1;
        var openerKey = e.State == FlowState.IcmpEcho ? (v6 ? EchoRequestV6 : EchoRequestV4)
            : e.Protocol is IpProtocols.Tcp or IpProtocols.Udp ? (e.Direction == Direction.Egress ? e.PeerPort : e.CameraPort)
            : (ushort)0;
        var rule = MatchRule(p, in r, v6, e.Direction, e.Protocol, openerKey, e.Key.Peer, nowMs);
        if (rule < 0 && !r.Monitor)
        {
            return false;
        }

        // Judged as an opener is (see Open): a DoH or DNS-over-TLS flow whose rule no longer says encrypted_dns is refused.
        var encryptedDns = rule >= 0 && IsEncryptedDnsOpener(p, in r, rule, e.Direction, e.Protocol, openerKey, e.Key.Peer);
        if (encryptedDns && !r.Monitor)
        {
            return false;
        }

        e.PolicyVersion = p.Version;
        e.Flags = rule < 0 || encryptedDns ? e.Flags | FlowFlags.Monitored : e.Flags & ~FlowFlags.Monitored;
        e.Learn = r.Learn ? e.Learn | FlowLearn.Noted : e.Learn & ~FlowLearn.Noted;
        return true;
    }

    /// <summary>A flow of a learn-mode camera was admitted: marked, so the table notes it when it leaves, and noted now.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NoteOpened(int index)
    {
        ref var e = ref _flows.At(index);
        e.Learn |= FlowLearn.Noted;
        var note = FlowTable.FlowNoteOf(in e, FlowNoteKind.Opened);
        FlowNotes.TryWrite(in note);
    }

    private void RecordFirstFragment(CompiledPolicy p, int cam, ref PacketInfo info, IpAddr camera, IpAddr peer, bool fromCamera, bool v6, long nowMs)
    {
        var key = FragmentKey(ref info, camera, peer, fromCamera, v6);
        if (_flows.Find(in key, nowMs) >= 0)
        {
            return;
        }

        ref readonly var r = ref p.Record(cam);
        var quota = r.FlowQuota > 0 ? r.FlowQuota : _defaultQuota;
        if (_flows.CountForCamera(r.Slot) >= quota)
        {
            return; // the later fragments will be orphans: counted there
        }

        var index = _flows.TryAdd(in key, r.Slot, nowMs);
        if (index < 0)
        {
            return;
        }

        ref var e = ref _flows.At(index);
        e.State = FlowState.Fragment;
        e.FragmentEnd = (ushort)Math.Min(info.FragmentDataLength, ushort.MaxValue);
        e.Direction = fromCamera ? Direction.Egress : Direction.Ingress;
        e.PolicyVersion = p.Version;
        e.ExpiresMs = nowMs + _fragmentMs;
    }

    private Decision LaterFragment(CompiledPolicy p, int cam, ref PacketInfo info, IpAddr camera, IpAddr peer, bool fromCamera, bool v6, long nowMs)
    {
        var key = FragmentKey(ref info, camera, peer, fromCamera, v6);
        // A fragment entry is never re-checked (it carries no opener), so across a reload it is revoked.
        var index = FindCurrent(p, cam, in key, nowMs);
        if (index < 0)
        {
            return Deny(p, cam, index == Revoked ? Reason.FlowRevoked : Reason.OrphanFragment);
        }

        ref var e = ref _flows.At(index);

        // The parser can refuse an overlap of the bare TCP header only; behind IPv6 extension headers (or TCP
        // options) it cannot know where the first fragment's headers end, so the first fragment's length decides.
        // An overlap poisons the whole datagram (RFC 5722): the rest of it becomes orphans.
        if (info.FragmentOffset * 8 < e.FragmentEnd)
        {
            _flows.Remove(index);
            return Deny(p, cam, Reason.OverlappingFragment);
        }

        return Decision.Pass(Reason.FragmentOfAllowed, e.CameraSlot);
    }

    /// <summary>A datagram's fragments share (source, destination, protocol, id); the id is split over the two ports.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FlowKey FragmentKey(ref PacketInfo info, IpAddr camera, IpAddr peer, bool fromCamera, bool v6)
        => FlowKey.Create(
            camera,
            (ushort)(info.FragmentId >> 16),
            peer,
            (ushort)info.FragmentId,
            info.Protocol,
            v6,
            info.OuterVlan,
            info.InnerVlan,
            fromCamera ? FlowKind.FragmentFromCamera : FlowKind.FragmentToCamera);

    /// <summary>
    /// The frame just passed for flow <paramref name="index"/>: offers the flow to the fast path when it is
    /// established (TCP) or a tracked datagram flow (UDP), admitted by a rule (not monitored) and not offered yet.
    /// Flows whose every frame the engine must read (DHCP, DNS answers it learns from, discovery) stay here.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ConsiderOffload(int index, ref PacketInfo info, bool fromCamera)
    {
        ref var e = ref _flows.At(index);
        if ((e.Flags & (FlowFlags.Offloaded | FlowFlags.Monitored)) != 0 || e.Kind != FlowKind.Connection || !info.HasEthernet)
        {
            return;
        }

        var eligible = e.Protocol == IpProtocols.Tcp ? e.State == FlowState.Established
            : e.Protocol == IpProtocols.Udp && e.State == FlowState.Datagram;
        if (!eligible || IsInspectedPort(e.CameraPort) || IsInspectedPort(e.PeerPort))
        {
            return;
        }

        // From here the fast path forwards segments the engine never sees: its sequence ends go stale for good.
        e.Flags |= FlowFlags.Offloaded | (e.Protocol == IpProtocols.Tcp ? FlowFlags.SequenceUnknown : FlowFlags.None);
        var flow = FlowTable.OffloadKey(in e) with
        {
            CameraMac = fromCamera ? info.SourceMac : info.DestinationMac,
            PeerMac = fromCamera ? info.DestinationMac : info.SourceMac,
        };
        _offload!.Offload(in flow);
    }

    /// <summary>
    /// Brings offloaded TCP flow <paramref name="index"/>'s sequence ends up to date from the fast path, which
    /// forwarded segments the engine never saw. True when the fast path could say; each end only moves forward (in
    /// sequence space), as the engine's own do.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool RefreshSequenceFromOffload(int index)
    {
        ref var e = ref _flows.At(index);
        if ((e.Flags & FlowFlags.Offloaded) == 0 || _offload is null
            || !_offload.TryReadSequenceEnds(FlowTable.OffloadKey(in e), out var cameraEnd, out var peerEnd))
        {
            return false;
        }

        var cameraOpened = e.Direction == Direction.Egress;
        MoveForward(ref e.OpenerSequenceEnd, cameraOpened ? cameraEnd : peerEnd);
        MoveForward(ref e.ResponderSequenceEnd, cameraOpened ? peerEnd : cameraEnd);
        return true;

        static void MoveForward(ref uint end, uint candidate)
        {
            if ((int)(candidate - end) > 0)
            {
                end = candidate;
            }
        }
    }

    /// <summary>Ports whose traffic the engine reads frame by frame: DNS (names it learns), DHCP, mDNS, SSDP, WS-Discovery.</summary>
    private static bool IsInspectedPort(ushort port) => port is 53 or 67 or 68 or 5353 or 1900 or 3702;

    /// <summary>Flow <paramref name="index"/> is closing or closed: the fast path must stop forwarding it now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndOffload(int index)
    {
        ref var e = ref _flows.At(index);
        if ((e.Flags & FlowFlags.Offloaded) != 0)
        {
            // From here the engine sees every segment again: it takes over where the fast path left the sequence
            // numbers. (A FIN or RST that ends the flow already stopped the kernel forwarding it, so they are final.)
            if ((e.Flags & FlowFlags.SequenceUnknown) != 0 && RefreshSequenceFromOffload(index))
            {
                e.Flags &= ~FlowFlags.SequenceUnknown;
            }

            e.Flags &= ~FlowFlags.Offloaded;
            _offload?.Withdraw(FlowTable.OffloadKey(in e));
        }
    }
}
