using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Syslog.Transport;

/// <summary>One open path to the collector. The sender owns it and writes from one task at a time.</summary>
internal abstract class SyslogConnection : IAsyncDisposable
{
    /// <summary>True once the peer closed or reset the connection; the next write must reconnect first.</summary>
    public abstract bool IsBroken { get; }

    /// <summary>
    /// True when the connection ended in a way that proves the collector read every byte written on it: see
    /// <see cref="StreamConnection"/>. False when that is unknown, and then the last message is written again on
    /// the next connection.
    /// </summary>
    public virtual bool PeerReadEverything => false;

    /// <summary>Writes one message. Throws on failure; the caller keeps the message and retries it.</summary>
    public abstract ValueTask SendAsync(byte[] message, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>Opens a connection for <paramref name="options"/>. Throws on failure.</summary>
    public static async Task<SyslogConnection> ConnectAsync(SyslogOptions options, TlsMaterial? tls, CancellationToken cancellationToken)
    {
        var host = options.Host!;
        var port = options.EffectivePort;
        if (options.Transport == SyslogTransport.Udp)
        {
            return await UdpConnection.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }

        Socket? socket = new(SocketType.Stream, ProtocolType.Tcp);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            var tcp = socket;
            stream = new NetworkStream(socket, ownsSocket: true);
            socket = null; // the stream owns it now
            if (options.Transport == SyslogTransport.Tls)
            {
                var plain = stream;
                stream = null; // AuthenticateAsync owns it now, and disposes it on failure
                stream = await AuthenticateAsync(plain, options, tls, cancellationToken).ConfigureAwait(false);
            }

            var connection = new StreamConnection(stream, tcp);
            stream = null; // the connection owns it now
            return connection;
        }
        finally
        {
            stream?.Dispose();
            socket?.Dispose();
        }
    }

    private static async Task<Stream> AuthenticateAsync(Stream inner, SyslogOptions options, TlsMaterial? tls, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            var auth = new SslClientAuthenticationOptions
            {
                TargetHost = string.IsNullOrWhiteSpace(options.Tls.ServerName) ? options.Host : options.Tls.ServerName,
                CertificateRevocationCheckMode = options.Tls.CheckRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
                EnabledSslProtocols = SslProtocols.None, // the OS's choice: TLS 1.2 and 1.3
                RemoteCertificateValidationCallback = (_, cert, chain, errors) => ValidateServer(cert, chain, errors, tls?.TrustedRoots, options.Tls.CheckRevocation),
            };
            if (tls?.ClientCertificate is { } client)
            {
                auth.ClientCertificates = [client];
            }

            await ssl.AuthenticateAsClientAsync(auth, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Fails closed: a missing certificate or a name mismatch is always fatal. With a configured CA bundle the
    /// chain must end at one of those roots (and only those: <see cref="X509ChainTrustMode.CustomRootTrust"/>);
    /// without one the platform's verdict against the system store stands.
    /// </summary>
    internal static bool ValidateServer(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection? roots, bool checkRevocation)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        if (roots is null)
        {
            return errors == SslPolicyErrors.None;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = checkRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
        if (presented is not null)
        {
            // Intermediates the server sent.
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var leaf = certificate as X509Certificate2;
        using var owned = leaf is null ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
        return chain.Build(leaf ?? owned!);
    }
}

/// <summary>RFC 5426: one message per datagram on a connected UDP socket.</summary>
internal sealed class UdpConnection : SyslogConnection
{
    private readonly Socket _socket;

    private UdpConnection(Socket socket) => _socket = socket;

    // UDP never learns that the collector went away, except through an ICMP error surfacing on a later send.
    public override bool IsBroken => false;

    public static async Task<UdpConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var socket = new Socket(addresses[0].AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(addresses[0], port, cancellationToken).ConfigureAwait(false);
            return new UdpConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override async ValueTask SendAsync(byte[] message, CancellationToken cancellationToken)
    {
        try
        {
            await _socket.SendAsync(message, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // An ICMP port-unreachable for an earlier datagram, reported on this send, which therefore did not go
            // out. Send it once more rather than tear down a socket that has nothing wrong with it; a collector
            // that stays down makes the retry fail the same way, and the sender then backs off.
            await _socket.SendAsync(message, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    public override ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// RFC 6587 octet counting (<c>LEN SP MSG</c>) over TCP or TLS. A reader task watches the connection: a syslog
/// collector never sends application data, so any end of the read side (FIN, RST, TLS close) means the peer is
/// gone, and the sender reconnects before writing the next message instead of writing it into a dead socket.
/// </summary>
/// <remarks>
/// How it tells whether the collector read everything (<see cref="PeerReadEverything"/>), without an
/// application acknowledgement (RFC 6587 has none): a TCP stack that closes a socket with unread received data
/// answers with a reset, not a FIN (RFC 2525 2.17; Linux's <c>tcp_close</c> does so). So an orderly end of stream
/// with no socket error, every byte we sent acknowledged (<c>TCP_INFO.tcpi_unacked</c> is 0) and no write in
/// progress or started since, means the collector's process read every message. A reset, a write in flight, or a
/// platform without <c>TCP_INFO</c> leaves it unknown. What it cannot see: a collector that read a message and
/// then died before storing it.
/// </remarks>
internal sealed class StreamConnection : SyslogConnection
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const int TcpInfoUnackedOffset = 24;

    private readonly Stream _stream;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _readerStop = new();
    private readonly Task _reader;
    private volatile bool _broken;
    private int _writesStarted;
    private int _writesCompleted;
    private int _writesAtEnd;
    private int _endVerdict; // 0 not ended (or unknown yet), 1 clean end, 2 reset or doubtful

    public StreamConnection(Stream stream, Socket socket)
    {
        _stream = stream;
        _socket = socket;
        _reader = WatchAsync();
    }

    public override bool IsBroken => _broken || PeerClosed();

    public override bool PeerReadEverything => Volatile.Read(ref _endVerdict) == 1 && Volatile.Read(ref _writesStarted) == Volatile.Read(ref _writesAtEnd);

    /// <summary>The peer's side ended; decides once, at that moment, whether it had read everything.</summary>
    private void OnPeerEnded(bool orderly)
    {
        if (Volatile.Read(ref _endVerdict) != 0)
        {
            return;
        }

        var started = Volatile.Read(ref _writesStarted);
        var clean = orderly && started == Volatile.Read(ref _writesCompleted) && NoSocketError() && AllAcknowledged();
        if (Interlocked.CompareExchange(ref _endVerdict, clean ? 1 : 2, 0) == 0)
        {
            Volatile.Write(ref _writesAtEnd, started);
        }
    }

    private bool NoSocketError()
    {
        try
        {
            return _socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private bool AllAcknowledged()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false; // no TCP_INFO layout we know: unknown, so the sender replays
        }

        Span<byte> info = stackalloc byte[104];
        try
        {
            var n = _socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
            return n >= TcpInfoUnackedOffset + 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(info[TcpInfoUnackedOffset..]) == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Asks the kernel directly, so a FIN or RST that arrived a moment ago counts even before the watcher task
    /// has been scheduled: readable with nothing to read is end of stream or an error. A race with the watcher
    /// consuming data can only make this say "closed" wrongly, which costs a reconnect, never a message.
    /// </summary>
    private bool PeerClosed()
    {
        try
        {
            if (_socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0)
            {
                OnPeerEnded(orderly: true); // a reset shows as a pending socket error, which makes it doubtful
                _broken = true;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            OnPeerEnded(orderly: false);
            _broken = true;
        }

        return _broken;
    }

    public override async ValueTask SendAsync(byte[] message, CancellationToken cancellationToken)
    {
        if (IsBroken)
        {
            throw new IOException("The collector closed the connection.");
        }

        // One write per frame: the length prefix and the message go out together, never a lone prefix.
        var frame = ArrayPool<byte>.Shared.Rent(message.Length + 12);
        try
        {
            message.Length.TryFormat(frame, out var n, default, CultureInfo.InvariantCulture);
            frame[n++] = (byte)' ';
            message.CopyTo(frame.AsSpan(n));
            n += message.Length;
            Interlocked.Increment(ref _writesStarted);
            await _stream.WriteAsync(frame.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _writesCompleted);
        }
        catch
        {
            _broken = true;
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task WatchAsync()
    {
        var buffer = new byte[512];
        try
        {
            while (await _stream.ReadAsync(buffer, _readerStop.Token).ConfigureAwait(false) > 0)
            {
                // Discard: nothing a collector says is meaningful to us (RFC 5425/6587 are one-way).
            }

            OnPeerEnded(orderly: true);
        }
        catch (Exception)
        {
            // Reset, TLS alert or our own dispose: in every case the connection is unusable.
            if (!_readerStop.IsCancellationRequested)
            {
                OnPeerEnded(orderly: false);
            }
        }

        _broken = true;
    }

    public override async ValueTask DisposeAsync()
    {
        _broken = true;
        await _readerStop.CancelAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The watcher already swallows its own errors; nothing else to do here.
        }

        _readerStop.Dispose();
    }
}
