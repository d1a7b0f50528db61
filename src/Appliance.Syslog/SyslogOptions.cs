namespace Appliance.Syslog;

/// <summary>How messages reach the collector.</summary>
public enum SyslogTransport
{
    /// <summary>RFC 5426: one message per datagram, capped at <see cref="SyslogOptions.MaxMessageBytes"/>. Best effort; no reconnect semantics.</summary>
    Udp = 0,

    /// <summary>RFC 6587 octet counting (<c>LEN SP MSG</c>) over plain TCP.</summary>
    Tcp = 1,

    /// <summary>RFC 5425: octet counting over TLS (default port 6514), server certificate and name checked.</summary>
    Tls = 2,
}

/// <summary>
/// The RFC 5424 facility codes (section 6.2.1): which subsystem a message is from. The numeric value is the code
/// on the wire (PRI = facility * 8 + severity, see <see cref="Rfc5424Formatter.Priority"/>), so values must not change.
/// </summary>
public enum SyslogFacility
{
    /// <summary>0: kernel messages. Reserved for the OS kernel; collectors may treat it specially.</summary>
    Kernel = 0,

    /// <summary>1: user-level messages, the generic facility of ordinary programs.</summary>
    User = 1,

    /// <summary>2: the mail system.</summary>
    Mail = 2,

    /// <summary>3: system daemons without a facility of their own.</summary>
    Daemon = 3,

    /// <summary>4: security and authorization messages.</summary>
    Auth = 4,

    /// <summary>5: messages the syslog daemon generates about itself.</summary>
    Syslog = 5,

    /// <summary>6: the line printer subsystem.</summary>
    Lpr = 6,

    /// <summary>7: the network news subsystem.</summary>
    News = 7,

    /// <summary>8: the UUCP subsystem.</summary>
    Uucp = 8,

    /// <summary>9: the clock daemon (cron).</summary>
    Cron = 9,

    /// <summary>10: private security and authorization messages (often a root-only log file).</summary>
    AuthPriv = 10,

    /// <summary>11: the FTP daemon.</summary>
    Ftp = 11,

    /// <summary>12: the NTP subsystem.</summary>
    Ntp = 12,

    /// <summary>13: log audit.</summary>
    Audit = 13,

    /// <summary>14: log alert.</summary>
    Alert = 14,

    /// <summary>15: the clock daemon (second code, historically used by some systems).</summary>
    Clock = 15,

    /// <summary>16: local use 0, left to the site; collectors filter on these.</summary>
    Local0 = 16,

    /// <summary>17: local use 1, left to the site; collectors filter on these.</summary>
    Local1 = 17,

    /// <summary>18: local use 2, left to the site; collectors filter on these.</summary>
    Local2 = 18,

    /// <summary>19: local use 3, left to the site; collectors filter on these.</summary>
    Local3 = 19,

    /// <summary>20: local use 4, left to the site; collectors filter on these. camfw's default (<see cref="SyslogOptions.Facility"/>).</summary>
    Local4 = 20,

    /// <summary>21: local use 5, left to the site; collectors filter on these.</summary>
    Local5 = 21,

    /// <summary>22: local use 6, left to the site; collectors filter on these.</summary>
    Local6 = 22,

    /// <summary>23: local use 7, left to the site; collectors filter on these.</summary>
    Local7 = 23,
}

/// <summary>Whether MSG carries the UTF-8 byte order mark that RFC 5424 section 6.4 asks of UTF-8 messages.</summary>
public enum Utf8BomMode
{
    /// <summary>
    /// BOM only when the message holds non-ASCII text (strict MSG-UTF8); pure ASCII goes as MSG-ANY without one,
    /// so the common case reads cleanly in collectors that do not strip the BOM (rsyslog keeps it in <c>msg</c>).
    /// </summary>
    Auto = 0,

    /// <summary>Every non-empty message starts with the BOM.</summary>
    Always = 1,

    /// <summary>Never: plain bytes, for collectors that print the BOM as garbage.</summary>
    Never = 2,
}

/// <summary>
/// Settings of the syslog sink, bound from configuration (section <c>Syslog</c> by convention) and validated when
/// the host starts. With no <see cref="Host"/> the sink is disabled: nothing is queued, nothing is sent.
/// </summary>
/// <example>
/// <code>
/// "Syslog": {
///   "Host": "siem.example.net", "Transport": "Tls", "Port": 6514,
///   "Facility": "Local4", "MinimumLevel": "Information",
///   "Tls": { "CaFile": "/etc/camfw/siem-ca.pem", "ClientCertificateFile": "/etc/camfw/client.pem", "ClientKeyFile": "/etc/camfw/client.key" }
/// }
/// </code>
/// </example>
public sealed class SyslogOptions
{
    /// <summary>The RFC 5424 APP-NAME of this appliance.</summary>
    public const string DefaultAppName = "camfw";

    /// <summary>The documentation private enterprise number (RFC 5612) used in the default SD-ID.</summary>
    public const int DocumentationEnterpriseNumber = 32473;

    /// <summary>Collector host name or address. Empty disables the sink.</summary>
    public string? Host { get; set; }

    /// <summary>Collector port; 0 picks the transport's default (514 for UDP and TCP, 6514 for TLS).</summary>
    public int Port { get; set; }

    /// <summary>Transport; TCP by default because it tells us when the collector goes away.</summary>
    public SyslogTransport Transport { get; set; } = SyslogTransport.Tcp;

    /// <summary>
    /// Facility of every message. <see cref="SyslogFacility.Local4"/> by default: it is what firewalls
    /// conventionally use (Cisco ASA, among others), so SIEM parsers and rsyslog filters expect firewall logs there.
    /// </summary>
    public SyslogFacility Facility { get; set; } = SyslogFacility.Local4;

    /// <summary>Messages below this level are not shipped.</summary>
    public Microsoft.Extensions.Logging.LogLevel MinimumLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>HOSTNAME field; by default the machine's host name.</summary>
    public string? Hostname { get; set; }

    /// <summary>APP-NAME field (at most 48 printable US-ASCII characters).</summary>
    public string AppName { get; set; } = DefaultAppName;

    /// <summary>Name part of the SD-ID that carries the structured-logging values.</summary>
    public string StructuredDataName { get; set; } = DefaultAppName;

    /// <summary>Private enterprise number of the SD-ID (<c>name@number</c>); 32473 is the documentation number.</summary>
    public int EnterpriseNumber { get; set; } = DocumentationEnterpriseNumber;

    /// <summary>
    /// Largest message, in bytes, before framing. Longer messages are cut at a UTF-8 character boundary (message
    /// text first, then whole SD-PARAMs). 2048 is what RFC 5426/5425 receivers must accept; raise it for TCP/TLS
    /// collectors configured for more (rsyslog's default <c>maxMessageSize</c> is 8k).
    /// </summary>
    public int MaxMessageBytes { get; set; } = 2048;

    /// <summary>BOM policy for MSG.</summary>
    public Utf8BomMode Utf8Bom { get; set; } = Utf8BomMode.Auto;

    /// <summary>Timestamps in UTC with <c>Z</c> (default) or in local time with its offset.</summary>
    public bool UseUtc { get; set; } = true;

    /// <summary>
    /// Messages held in memory while the collector is slow or away. When full, new messages go to the spool
    /// (<see cref="SpoolDirectory"/>); without one they are dropped and counted in <see cref="SyslogStats.Dropped"/>.
    /// The logging caller never waits for the collector.
    /// </summary>
    public int QueueCapacity { get; set; } = 16_384;

    /// <summary>
    /// Directory of the on-disk spool that takes over when the memory queue is full (rsyslog's disk-assisted
    /// queue), delivered in order after reconnect and read back after a restart. Empty: no spool, memory only.
    /// The appliance host sets it to <c>syslog-spool</c> under the state directory (<c>Policy:StateDirectory</c>).
    /// </summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>
    /// Bound of the spool in bytes (its segment files). 128 MiB holds roughly 600,000 typical security events.
    /// See <see cref="SpoolReservedPercent"/> for what is discarded when it fills.
    /// </summary>
    public long SpoolMaxBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>
    /// Share of <see cref="SpoolMaxBytes"/> kept for warning and above: past <c>100 - this</c> percent, messages
    /// below warning (notice, informational, debug: denied flows, for one) are discarded and counted, so phone-home
    /// and spoofing events still find room. When warnings fill the rest too, the oldest segments after the first
    /// eighth of the bound are discarded: the start of the outage and the newest events are both kept.
    /// </summary>
    public int SpoolReservedPercent { get; set; } = 25;

    /// <summary>
    /// How often spooled messages are fsynced (a batch, not every message). A killed process loses nothing
    /// spooled; a power loss can lose up to this much of the newest spool.
    /// </summary>
    public TimeSpan SpoolSyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Health reports <c>degraded</c> once the collector has been unreachable, or the oldest undelivered message
    /// has waited, this long. Short enough to notice an outage, long enough for a reconnect's backoff.
    /// </summary>
    public TimeSpan DegradedAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>First delay before reconnecting; doubled after each failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Cap of the reconnect backoff.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connect (and TLS handshake) timeout.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A write that does not complete in this time counts as a broken connection.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>On shutdown, how long queued messages may still be sent.</summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>TLS settings (used when <see cref="Transport"/> is <see cref="SyslogTransport.Tls"/>).</summary>
    public SyslogTlsOptions Tls { get; set; } = new();

    /// <summary>True when a collector is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Host);

    /// <summary>The port actually used.</summary>
    public int EffectivePort => Port != 0 ? Port : Transport == SyslogTransport.Tls ? 6514 : 514;
}

/// <summary>RFC 5425 TLS settings.</summary>
public sealed class SyslogTlsOptions
{
    /// <summary>
    /// PEM bundle of the CA certificate(s) the collector's certificate must chain to. When empty, the system
    /// trust store is used. Either way the collector's name must match <see cref="ServerName"/> (or the host).
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>The name the collector's certificate must carry; by default <see cref="SyslogOptions.Host"/>.</summary>
    public string? ServerName { get; set; }

    /// <summary>Optional client certificate: a PEM certificate (with <see cref="ClientKeyFile"/>) or a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>).</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of the client certificate; when empty the key is read from the certificate file.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>Password of a PKCS#12 client certificate.</summary>
    public string? ClientCertificatePassword { get; set; }

    /// <summary>
    /// Check revocation online. Off by default: appliances often have no route to CRL/OCSP servers, and an
    /// unreachable responder would stop all logging.
    /// </summary>
    public bool CheckRevocation { get; set; }
}
