using System.Net;

namespace Appliance.Management.Client;

/// <summary>An answer of the management API: its status, the body when it parsed, and the error it reported if any.</summary>
/// <typeparam name="T">The endpoint's document type.</typeparam>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The document (also on some errors: a rejected policy comes back as an <see cref="Api.ApplyDto"/>).</param>
/// <param name="Error">The appliance's explanation when the status is not a success (a problem document's detail).</param>
public sealed record ApiResponse<T>(HttpStatusCode Status, T? Body, string? Error)
{
    /// <summary>True for a 2xx status.</summary>
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}
