using System.Globalization;
using System.Text;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Tools;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// The parser against answers another implementation built: scapy (python3-scapy) writes random responses (mixed
/// case, CNAME chains, A and AAAA, TXT, authority and additional records, with and without name compression) and
/// prints what it put in; the parser must read back exactly that.
/// </summary>
public sealed class DnsScapyCrossCheckTests
{
    private const string Script = """
        import random
        import logging
        logging.getLogger('scapy').setLevel(logging.ERROR)
        from scapy.all import DNS, DNSQR, DNSRR
        from scapy.layers.dns import dns_compress

        rnd = random.Random(15)
        def label():
            n = rnd.choice([1, 3, 8, 20, 63])
            return ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_') for _ in range(n))
        def name(parent=None):
            base = parent or rnd.choice(['vendor.example', 'fw.Vendor.Example', 'time.example.net', 'p2p.vendor.example'])
            return '.'.join(label() for _ in range(rnd.randint(0, 2))) + ('.' if rnd.random() < 1 else '') + base
        def norm(n):
            n = n.decode('latin-1') if isinstance(n, bytes) else n
            return n.strip('.').lower()

        for i in range(300):
            q = name().strip('.')
            qtype = rnd.choice(['A', 'AAAA'])
            records = []
            owner = q
            for _ in range(rnd.randint(0, 3)):
                target = name().strip('.')
                records.append(('an', owner, 'CNAME', rnd.randint(0, 86400), target))
                owner = target
            for _ in range(rnd.randint(0, 4)):
                if rnd.random() < 0.5:
                    records.append(('an', owner, 'A', rnd.randint(0, 2**31 - 1), '203.0.113.%d' % rnd.randint(0, 255)))
                else:
                    records.append(('an', owner, 'AAAA', rnd.randint(0, 604800), '2001:db8::%x' % rnd.randint(0, 65535)))
            extra = []
            if rnd.random() < 0.3:
                extra.append(('ar', name().strip('.'), 'TXT', 5, 'v=spf1 -all'))
            an = [r for r in records if r[0] == 'an']
            def rr(r):
                return DNSRR(rrname=r[1], type=r[2], ttl=r[3], rdata=r[4])
            pkt = DNS(id=rnd.randint(0, 65535), qr=1, rd=1, ra=1, qd=DNSQR(qname=q, qtype=qtype))
            if an:
                chain = rr(an[0])
                for r in an[1:]:
                    chain = chain / rr(r)
                pkt.an = chain
            if extra:
                pkt.ar = rr(extra[0])
            raw = bytes(pkt)
            if i % 2:
                # scapy 2.5's dns_compress mangles some long chains: keep its output only when scapy's own dissector
                # reads back the names that went in, so both sides judge the same, correct bytes.
                packed = bytes(dns_compress(pkt))
                back = DNS(packed)
                got = [(norm(back.an[k].rrname), norm(back.an[k].rdata) if r[2] == 'CNAME' else None) for k, r in enumerate(an)] if an else []
                if got == [(norm(r[1]), norm(r[4]) if r[2] == 'CNAME' else None) for r in an] and norm(back.qd.qname) == q.lower():
                    raw = packed
            fields = [raw.hex(), str(pkt.id), norm(q)]
            for r in an + extra:
                value = norm(r[4]) if r[2] == 'CNAME' else (r[4] if r[2] in ('A', 'AAAA') else '-')
                fields.append(','.join([r[0], norm(r[1]), r[2], str(r[3]), value]))
            print('\t'.join(fields))
        """;

    [Fact]
    public void Records_ScapyBuiltAnswers_ReadBackWhatScapyWrote()
    {
        var lines = SystemPython.Run(Script).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(300, lines.Length);
        var compressedSeen = 0;
        var text = new byte[DnsName.MaxTextLength];
        foreach (var line in lines)
        {
            var f = line.Split('\t');
            var message = Frames.FromHex(f[0]);
            Assert.True(DnsMessage.TryCreate(message, out var dns, out _), line);
            Assert.True(dns.TryValidate(out var error), $"{error}: {line}");
            Assert.Equal(int.Parse(f[1], CultureInfo.InvariantCulture), dns.Id);
            Assert.True(dns.TryReadQuestion(out var q, out _));
            Assert.True(q.Name.TryCopyLowercase(text, out var n));
            Assert.Equal(f[2], Encoding.ASCII.GetString(text, 0, n));

            var records = dns.Records();
            for (var i = 3; i < f.Length; i++)
            {
                var want = f[i].Split(',');
                Assert.True(records.TryNext(out var r, out error), $"{error}: {line}");
                Assert.Equal(want[0] == "an" ? DnsSection.Answer : DnsSection.Additional, r.Section);
                Assert.True(r.Name.TryCopyLowercase(text, out n));
                Assert.Equal(want[1], Encoding.ASCII.GetString(text, 0, n));
                Assert.Equal(uint.Parse(want[3], CultureInfo.InvariantCulture), r.Ttl);
                switch (want[2])
                {
                    case "CNAME":
                        Assert.True(r.TryGetCanonicalName(out var target));
                        Assert.True(target.TryCopyLowercase(text, out n));
                        Assert.Equal(want[4], Encoding.ASCII.GetString(text, 0, n));
                        compressedSeen += r.DataLength < target.WireLength ? 1 : 0;
                        break;
                    case "A" or "AAAA":
                        Assert.True(r.TryGetAddress(out var address));
                        Assert.Equal(want[4], address.ToString());
                        break;
                    default:
                        Assert.Equal(DnsTypes.Txt, r.Type);
                        break;
                }
            }

            Assert.False(records.TryNext(out _, out error));
            Assert.Equal((Reason)0, error);
        }

        // Positive control: the compressed half really exercised pointers inside record data.
        Assert.True(compressedSeen > 20, $"only {compressedSeen} compressed CNAME targets");
    }
}
