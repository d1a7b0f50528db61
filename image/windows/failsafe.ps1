<#
.SYNOPSIS
    The camfw service's recovery action: IP forwarding off on the gateway's interfaces, then start the service again.

.DESCRIPTION
    Windows runs this (sc.exe failure ... command=) when `camfw run` crashes or exits non-zero. With the gateway gone,
    the WinDivert driver no longer diverts routed packets, so forwarding must go off before anything else.
    `camfw.exe gateway-failsafe` does it through the IP Helper API; if that fails, Set-NetIPInterface does it.
#>
param(
    [Parameter(Mandatory)] [string] $Config,
    [string] $ServiceName = 'camfw',
    [int] $RestartDelaySeconds = 5
)

$exe = Join-Path $PSScriptRoot 'camfw.exe'
& $exe gateway-failsafe --config $Config
if ($LASTEXITCODE -ne 0) {
    $settings = Get-Content -Raw -Path $Config | ConvertFrom-Json
    $pair = $settings.Bridge.Pairs[0]
    foreach ($index in $pair.CameraInterface, $pair.UplinkInterface) {
        Get-NetIPInterface -InterfaceIndex ([uint32]$index) -ErrorAction SilentlyContinue | Set-NetIPInterface -Forwarding Disabled
    }
}

# camfw turns forwarding on again only once its loop decides packets.
Start-Sleep -Seconds $RestartDelaySeconds
Start-Service -Name $ServiceName
