using System.Globalization;
using Appliance.TestSupport.Tools;

namespace Appliance.Core.Tests.Engine;

/// <summary>One query of a sample: what made it, its DNS message (UDP payload) and when it was sent.</summary>
internal sealed record SampleQuery(string Sample, byte[] Message, long TimeMs);

/// <summary>
/// DNS query samples made with scapy (python3-scapy): tunnels in the style of iodine (NULL records, or forced A; base32
/// data in 57-character labels after a one-letter command and user id, a handshake, then data as fast as it goes) and
/// dnscat2 (hex-encoded packets split into labels, under the tunnel's domain, asking TXT, CNAME or MX in turn, or
/// forced A; a poll a second), and a normal camera's hour (a boot burst of A/AAAA lookups for its vendor's names, a
/// reverse lookup, an SRV lookup, then the lab generator's query every 2 s, the time server every minute, a firmware
/// check every 5 minutes, a CDN name every 10). The lab's queries are made by lab/traffic.py's own dns_query.
/// </summary>
internal static class DnsTunnelSamples
{
    private const string Script = """
        import base64, binascii, importlib.util, logging, os, random, sys
        logging.getLogger('scapy').setLevel(logging.ERROR)
        from scapy.all import DNS, DNSQR

        rnd = random.Random(1515)
        out = []
        def emit(sample, pkt, t):
            out.append('%s\t%s\t%d' % (sample, bytes(pkt).hex(), t))

        # ---- iodine-like: commands are one letter, data labels base32 (iodine's alphabet a-z0-5), 57 per label.
        B32 = 'abcdefghijklmnopqrstuvwxyz012345'
        def b32(data):
            bits = ''.join('{:08b}'.format(b) for b in data)
            bits += '0' * (-len(bits) % 5)
            return ''.join(B32[int(bits[i:i+5], 2)] for i in range(0, len(bits), 5))
        def dotify(s, n=57):
            return '.'.join(s[i:i+n] for i in range(0, len(s), n))
        def iodine(sample, qtype, domain='t.tun.attacker.example'):
            t = 0
            seq = [('v' + b32(bytes([0, 0, 5, 2]) + rnd.randbytes(2)), 'version'),
                   ('l' + b32(bytes([0]) + rnd.randbytes(16)), 'login'),
                   ('y' + 'aA' + b32(rnd.randbytes(8)), 'case check'),
                   ('o' + 'a' + b32(rnd.randbytes(3)), 'options')]
            for name, _ in seq:
                emit(sample, DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname=name + '.' + domain, qtype=qtype)), t)
                t += 40
            for i in range(300):
                # upstream data: user id, header, then base32 payload: up to 120 bytes, so the name stays within 253
                payload = rnd.randbytes(rnd.choice([20, 60, 100, 120]))
                name = '0' + b32(rnd.randbytes(3)) + b32(payload)
                emit(sample, DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname=dotify(name) + '.' + domain, qtype=qtype)), t)
                t += 20
        iodine('iodine-null', 'NULL')
        iodine('iodine-a', 'A')

        # ---- dnscat2-like: hex of a packet (id, type, session, seq, ack, data), labels of up to 63, TXT/CNAME/MX.
        def dnscat(sample, qtypes, domain='dnscat.attacker.example', interval=1000):
            t = 0
            session = rnd.randint(0, 65535)
            seq = rnd.randint(0, 65535)
            for i in range(300):
                data = rnd.randbytes(rnd.choice([0, 0, 8, 30, 80]))
                packet = rnd.randbytes(2) + bytes([1]) + session.to_bytes(2, 'big') + seq.to_bytes(2, 'big') + rnd.randbytes(2) + data
                hexed = packet.hex()
                name = '.'.join(hexed[i:i+63] for i in range(0, len(hexed), 63)) + '.' + domain
                emit(sample, DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname=name, qtype=rnd.choice(qtypes))), t)
                seq = (seq + len(data)) & 0xFFFF
                t += interval
        dnscat('dnscat2', ['TXT', 'CNAME', 'MX'])
        dnscat('dnscat2-a', ['A'])

        # ---- a normal camera, an hour of it.
        spec = importlib.util.spec_from_file_location('labtraffic', os.environ['CAMFW_LAB_TRAFFIC'])
        lab = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(lab)
        t = 0
        for name in ['time.vendor.example', 'a.fw.vendor.example', 'p2p.vendor.example', 'ntp.site.example', 'nvr.site.example', 'cloud-eu-1.vendor.example']:
            for qtype in ['A', 'AAAA']:
                emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname=name, qtype=qtype)), t)
                t += 3
        emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='10.100.51.198.in-addr.arpa', qtype='PTR')), t)
        emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='_ntp._udp.site.example', qtype='SRV')), t + 5)
        qid = 0
        for second in range(0, 3600, 2):
            t = 1000 + second * 1000
            qid = (qid + 1) & 0xFFFF
            out.append('normal\t%s\t%d' % (lab.dns_query(qid, 'ntp.site.example').hex(), t))
            if second % 60 == 0:
                emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='time.vendor.example', qtype='A')), t + 7)
                emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='time.vendor.example', qtype='AAAA')), t + 8)
            if second % 300 == 0:
                emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='fw-eu-%d.fw.vendor.example' % (second // 300 % 3), qtype='A')), t + 11)
            if second % 600 == 0:
                emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='d3kx9abc2def%02d.cloudfront.example' % (second // 600), qtype='A')), t + 13)
                emit('normal', DNS(id=rnd.randint(0, 65535), rd=1, qd=DNSQR(qname='ec2-203-0-113-%d.eu-west-1.compute.cloud.example' % (second // 600), qtype='A')), t + 14)
        print('\n'.join(out))
        """;

    private static readonly Lazy<IReadOnlyList<SampleQuery>> Queries = new(Make);

    public static IReadOnlyList<SampleQuery> All => Queries.Value;

    public static IReadOnlyList<SampleQuery> Of(string sample) => [.. All.Where(q => q.Sample == sample)];

    private static List<SampleQuery> Make()
    {
        Environment.SetEnvironmentVariable("CAMFW_LAB_TRAFFIC", Path.Combine(RepoRoot(), "lab", "traffic.py"));
        return
        [
            .. SystemPython.Run(Script).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
            {
                var f = line.Split('\t');
                return new SampleQuery(f[0], Convert.FromHexString(f[1]), long.Parse(f[2], CultureInfo.InvariantCulture));
            }),
        ];
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "lab", "traffic.py")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("lab/traffic.py not found above " + AppContext.BaseDirectory);
    }
}
