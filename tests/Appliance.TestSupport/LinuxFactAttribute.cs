namespace Appliance.TestSupport;

/// <summary>A fact about a Linux system call (no root needed); elsewhere it is skipped with the reason.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "a Linux system call";
        }
    }
}
