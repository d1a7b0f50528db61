namespace Appliance.Management.Security;

/// <summary>
/// The credentials of the process at the other end of a local (Unix domain) socket connection, as the kernel reports
/// them (SO_PEERCRED) at connect time: not something the client says about itself. Set as a connection feature.
/// </summary>
/// <param name="Pid">The peer's process id.</param>
/// <param name="Uid">The peer's effective user id.</param>
/// <param name="Gid">The peer's effective group id.</param>
public sealed record PeerCredentials(int Pid, uint Uid, uint Gid);
