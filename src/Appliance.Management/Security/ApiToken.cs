using System.Security.Cryptography;
using System.Text;
using Appliance.Management.Policies;

namespace Appliance.Management.Security;

/// <summary>
/// The management API's bearer token: configured, read from a 0600 file, or generated into that file on first
/// start. Checked in constant time.
/// </summary>
public sealed class ApiToken
{
    private readonly byte[] _digest;

    private ApiToken(string value)
    {
        Value = value;
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>Shortest token accepted from configuration.</summary>
    public const int MinimumLength = 16;

    /// <summary>The token (only the CLI and the lab need to read it).</summary>
    public string Value { get; }

    /// <summary>Wraps a token given directly.</summary>
    public static ApiToken FromValue(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (value.Trim().Length < MinimumLength)
        {
            throw new ArgumentException($"the management token must be at least {MinimumLength} characters", nameof(value));
        }

        return new ApiToken(value.Trim());
    }

    /// <summary>
    /// Reads the token from <paramref name="path"/>, or creates the file (mode 0600, directory 0700 if new) with 32
    /// random bytes, base64url. A file that group or others may read is refused, like ssh refuses a readable key.
    /// </summary>
    /// <param name="path">The token file.</param>
    /// <param name="created">True when this call generated the token.</param>
    public static ApiToken LoadOrCreate(string path, out bool created)
    {
        created = false;
        if (File.Exists(path))
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                {
                    throw new InvalidOperationException($"token file {path} is readable or writable by group or others; run: chmod 600 {path}");
                }
            }

            var text = File.ReadAllText(path).Trim();
            if (text.Length < MinimumLength)
            {
                throw new InvalidOperationException($"token file {path} holds fewer than {MinimumLength} characters");
            }

            return new ApiToken(text);
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(dir);
            }
            else
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Created with 0600 in the open(2) call itself: there is no moment at which the file is readable by others.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(token + "\n"));
            stream.Flush(flushToDisk: true);
        }

        DurableFile.SyncDirectory(dir);
        created = true;
        return new ApiToken(token);
    }

    /// <summary>
    /// Constant-time check of a presented token. Both sides are hashed first, so neither the length nor any prefix of
    /// the real token leaks through timing.
    /// </summary>
    public bool Matches(ReadOnlySpan<char> presented)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(presented)];
        Encoding.UTF8.GetBytes(presented, bytes);
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(bytes), _digest);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
