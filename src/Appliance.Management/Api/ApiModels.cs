using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Management.Policies;

namespace Appliance.Management.Api;

/// <summary>A compiler-style diagnostic as JSON.</summary>
public sealed record DiagnosticDto(string File, int Line, int Column, string Severity, string Message);

/// <summary>Where a change came from.</summary>
public sealed record OriginDto(string Kind, string? Remote, string? Detail);

/// <summary>A rejected policy.</summary>
public sealed record PolicyFailureDto(DateTimeOffset At, OriginDto Origin, IReadOnlyList<DiagnosticDto> Diagnostics);

/// <summary>A safe apply waiting for <c>POST /api/v1/policy/confirm</c>.</summary>
public sealed record PendingConfirmationDto(DateTimeOffset Deadline, uint Version, uint RevertToVersion);

/// <summary>One data plane's health.</summary>
public sealed record DataPlaneDto(string Name, bool Healthy, string? Error, long CaptureDrops, int FlowCount, int FlowCapacity);

/// <summary>Syslog shipping in <c>GET /api/v1/health</c>; <c>Problem</c> set makes the status <c>degraded</c>.</summary>
public sealed record SyslogHealthDto(bool Connected, long Pending, long SpoolRecords, long SpoolBytes, double OldestUndeliveredSeconds, long Discarded, string? Problem);

/// <summary>
/// <c>GET /api/v1/health</c>: <c>healthy</c>, <c>degraded</c> (the last policy change was rejected, or syslog events
/// cannot be delivered) or <c>unhealthy</c> (503).
/// </summary>
public sealed record HealthDto(
    string Status,
    uint? PolicyVersion,
    string? PolicySha256,
    DateTimeOffset? PolicyLoadedAt,
    long PolicyReloads,
    long PolicyReloadFailures,
    PolicyFailureDto? LastPolicyFailure,
    bool LastPolicyFailureStands,
    IReadOnlyList<DataPlaneDto> DataPlanes,
    PendingConfirmationDto? PendingConfirmation,
    SyslogHealthDto? Syslog = null);

/// <summary><c>GET /api/v1/policy</c>.</summary>
public sealed record PolicyDto(uint Version, string Sha256, DateTimeOffset LoadedAt, OriginDto Origin, string Directory, IReadOnlyList<string> Sources, int Cameras, PendingConfirmationDto? PendingConfirmation);

/// <summary>Body of <c>PUT /api/v1/policy</c> and <c>POST /api/v1/policy/validate</c>: file name (relative, <c>.yaml</c>) to text.</summary>
public sealed record PolicyFilesDto
{
    /// <summary>
    /// The whole policy: every file of the directory, keyed by its relative name (<c>cameras/north.yaml</c>). Files
    /// not listed are removed, so a client sends the complete set, not a patch. Missing, empty, or a file whose
    /// text is null is a 400 problem, never an empty policy.
    /// </summary>
    public Dictionary<string, string>? Files { get; init; }
}

/// <summary>
/// <c>GET /api/v1/proposal</c>: the policy learned from the cameras in learn mode. <c>Files</c> (name to text) is a
/// policy directory; <c>Diff</c> says what applying it would change; <c>Problems</c> lists what the policy check said.
/// </summary>
public sealed record ProposalDto(Dictionary<string, string> Files, string Diff, int Cameras, int Allowed, int NeedsDecision, int NotLearned, IReadOnlyList<string> Problems, long NotesLost = 0, long Evicted = 0);

/// <summary>Cameras added, removed and changed by a policy change.</summary>
public sealed record DiffDto(IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Changed);

/// <summary>Result of apply, reload, rollback and confirm. <c>Outcome</c>: applied, unchanged, rejected, not-found, nothing-pending.</summary>
public sealed record ApplyDto(string Outcome, string? Message, uint? Version, string? Sha256, DiffDto? Diff, DateTimeOffset? ConfirmDeadline, IReadOnlyList<DiagnosticDto> Diagnostics);

/// <summary><c>POST /api/v1/policy/validate</c>.</summary>
public sealed record ValidateDto(bool Valid, int Errors, int Warnings, int? Cameras, string? Sha256, IReadOnlyList<DiagnosticDto> Diagnostics);

/// <summary>One history entry.</summary>
public sealed record HistoryEntryDto(uint Version, string Sha256, DateTimeOffset AppliedAt, OriginDto Origin, IReadOnlyList<string> Sources, bool Current);

/// <summary><c>GET /api/v1/policy/history</c>, newest first.</summary>
public sealed record HistoryDto(uint? CurrentVersion, IReadOnlyList<HistoryEntryDto> Entries);

/// <summary>A destination a camera tried and was refused; <c>name</c> is the name the camera last resolved to it (null: none).</summary>
public sealed record DeniedDestinationDto(string Address, int Port, string Protocol, long Count, DateTimeOffset LastSeen, string? Name = null);

/// <summary>One camera with its counters; <c>noDnsForPeer</c>: its connection attempts to public addresses it never resolved.</summary>
public sealed record CameraDto(
    string Name,
    string? Mac,
    IReadOnlyList<string> Addresses,
    IReadOnlyList<string> Profiles,
    string Mode,
    DateTimeOffset? LastSeen,
    long FramesPassed,
    long FramesDropped,
    long BytesPassed,
    long BytesDropped,
    IReadOnlyList<DeniedDestinationDto> TopDeniedDestinations,
    long NoDnsForPeer = 0);

/// <summary><c>GET /api/v1/cameras</c>.</summary>
public sealed record CamerasDto(uint? PolicyVersion, IReadOnlyList<CameraDto> Cameras);

/// <summary>One tracked flow; <c>peerName</c> is the name the camera last resolved to the peer's address (null: none).</summary>
public sealed record FlowDto(string Plane, string? Camera, string Protocol, string Source, int SourcePort, string Destination, int DestinationPort, string Direction, string State, uint PolicyVersion, DateTimeOffset? LastSeen, string? PeerName = null);

/// <summary><c>GET /api/v1/flows?offset=&amp;limit=</c>.</summary>
public sealed record FlowsDto(int Total, int Offset, int Limit, IReadOnlyList<FlowDto> Flows);

/// <summary>
/// One learned name-to-address mapping of a camera (see <c>GET /api/v1/dns/names</c>). <c>admitsSeconds</c> is how long a
/// name rule may still admit the address through it, null when it admits nothing (an answer to a query no rule
/// admitted, such as a learn-mode camera's own lookup: it only names the peer in reports).
/// </summary>
public sealed record LearnedNameDto(string Camera, string Name, string Address, double RemainingSeconds, double? AdmitsSeconds = null);

/// <summary><c>GET /api/v1/dns/names?camera=</c>: what each camera learned from the DNS answers it was forwarded.</summary>
public sealed record LearnedNamesDto(IReadOnlyList<LearnedNameDto> Names);

/// <summary>One reported security event: <c>kind</c> is its syslog MSGID; <c>fields</c> its structured data.</summary>
public sealed record EventDto(long Sequence, DateTimeOffset At, string Kind, string Level, string Message, IReadOnlyDictionary<string, string> Fields);

/// <summary><c>GET /api/v1/events?limit=&amp;after=</c>, newest first.</summary>
public sealed record EventsDto(long Total, IReadOnlyList<EventDto> Events);

/// <summary>
/// The members of an RFC 9457 problem document (<c>application/problem+json</c>) that every error carries; errors
/// about a policy add the <see cref="ApplyDto"/> or <see cref="ValidateDto"/> members, invalid parameters an
/// <c>errors</c> map.
/// </summary>
public sealed record ProblemDto(string? Type, string? Title, int? Status, string? Detail);

/// <summary>System.Text.Json source generation for every API type (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(HealthDto))]
[JsonSerializable(typeof(PolicyDto))]
[JsonSerializable(typeof(PolicyFilesDto))]
[JsonSerializable(typeof(ProposalDto))]
[JsonSerializable(typeof(ApplyDto))]
[JsonSerializable(typeof(ValidateDto))]
[JsonSerializable(typeof(HistoryDto))]
[JsonSerializable(typeof(CamerasDto))]
[JsonSerializable(typeof(FlowsDto))]
[JsonSerializable(typeof(EventsDto))]
[JsonSerializable(typeof(LearnedNamesDto))]
[JsonSerializable(typeof(ProblemDto))]
[JsonSerializable(typeof(IReadOnlyList<DiagnosticDto>))]
// Problem documents carry the diagnostics as an extension member, serialized by its runtime type: with reflection off
// (NativeAOT) a type missing here fails the response.
[JsonSerializable(typeof(List<DiagnosticDto>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(uint))]
[JsonSerializable(typeof(ReasonsDto))]
[JsonSerializable(typeof(AuditRecord))]
[JsonSerializable(typeof(HistoryMeta))]
public sealed partial class ManagementJsonContext : JsonSerializerContext;
