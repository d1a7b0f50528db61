#Requires -RunAsAdministrator
#Requires -Version 5.1
<#
.SYNOPSIS
    Installs camfw on a 64-bit Windows host as the "camfw" service running the WinDivert gateway, with recovery
    actions that turn IP forwarding off when the service dies.

.DESCRIPTION
    The box routes between a camera interface and an uplink interface; camfw decides every routed packet with
    WinDivert 2.2 and keeps IP forwarding on those two interfaces off whenever it is not deciding (fail closed).

    What the script does, in order:
      1. turns IP forwarding off (IPv4 and IPv6) on the camera and uplink interfaces;
      2. copies camfw (a `dotnet publish -r win-x64 --self-contained` folder) and WinDivert.dll + WinDivert64.sys
         (WinDivert 2.2.x, x64 folder of the release zip) to -InstallDir;
      3. writes -DataDir\camfw.json (backend windivert, the two ifIndex numbers, the camera networks, the policy
         and state directories, the management API on 127.0.0.1:8080) unless it exists, and restricts -DataDir to
         SYSTEM and Administrators;
      4. creates the service (New-Service, LocalSystem, automatic start) running `camfw.exe run --config ...`;
      5. sets its recovery actions with sc.exe: on every failure (a crash, or `camfw run` exiting non-zero after a
         data-plane fault: failureflag 1) Windows runs failsafe.ps1, which runs `camfw.exe gateway-failsafe` (IP
         forwarding off; Set-NetIPInterface as a fallback), waits, and starts the service again.

    Nothing here has run on a real Windows host yet: it is written against the documented behaviour of
    New-Service, sc.exe failure/failureflag and Set-NetIPInterface. Try it on a lab machine first.

.EXAMPLE
    dotnet publish src/Appliance.Host -c Release -r win-x64 --self-contained -o C:\build\camfw
    .\install-camfw.ps1 -PublishDir C:\build\camfw -WinDivertDir C:\WinDivert-2.2.2-A\x64 `
        -CameraIfIndex 12 -UplinkIfIndex 7 -CameraNetworks 10.20.0.0/24 -PolicyDir C:\camfw-policies -Start

.NOTES
    Uninstall: Stop-Service camfw; sc.exe delete camfw; then turn forwarding off (camfw.exe gateway-failsafe).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PublishDir,
    [Parameter(Mandatory)] [string] $WinDivertDir,
    [Parameter(Mandatory)] [uint32] $CameraIfIndex,
    [Parameter(Mandatory)] [uint32] $UplinkIfIndex,
    [Parameter(Mandatory)] [string[]] $CameraNetworks,
    [Parameter(Mandatory)] [string] $PolicyDir,
    [string] $InstallDir = "$env:ProgramFiles\camfw",
    [string] $DataDir = "$env:ProgramData\camfw",
    [string] $ServiceName = 'camfw',
    [switch] $Start
)

$ErrorActionPreference = 'Stop'

if ($CameraIfIndex -eq $UplinkIfIndex) { throw 'CameraIfIndex and UplinkIfIndex must be two different interfaces.' }
foreach ($index in $CameraIfIndex, $UplinkIfIndex) {
    Get-NetAdapter -InterfaceIndex $index | Out-Null   # throws when there is no such interface
}
if (-not (Test-Path (Join-Path $PublishDir 'camfw.exe'))) { throw "$PublishDir has no camfw.exe (dotnet publish -r win-x64)." }
foreach ($file in 'WinDivert.dll', 'WinDivert64.sys') {
    if (-not (Test-Path (Join-Path $WinDivertDir $file))) { throw "$WinDivertDir has no $file (use the x64 folder of WinDivert 2.2)." }
}

# 1. Fail closed from the first moment: no routing between the two sides until camfw decides.
foreach ($index in $CameraIfIndex, $UplinkIfIndex) {
    Get-NetIPInterface -InterfaceIndex $index -ErrorAction SilentlyContinue | Set-NetIPInterface -Forwarding Disabled
}

# 2. Program files.
if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) { Stop-Service -Name $ServiceName -Force }
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
Copy-Item -Path (Join-Path $PublishDir '*') -Destination $InstallDir -Recurse -Force
Copy-Item -Path (Join-Path $WinDivertDir 'WinDivert.dll'), (Join-Path $WinDivertDir 'WinDivert64.sys') -Destination $InstallDir -Force
Copy-Item -Path (Join-Path $PSScriptRoot 'failsafe.ps1') -Destination $InstallDir -Force

# 3. Configuration and state, readable by SYSTEM and Administrators only (the API token lives here).
$policies = Join-Path $DataDir 'policies'
New-Item -ItemType Directory -Force -Path $DataDir, $policies, (Join-Path $DataDir 'state') | Out-Null
Copy-Item -Path (Join-Path $PolicyDir '*.yaml') -Destination $policies -Force
$config = Join-Path $DataDir 'camfw.json'
if (-not (Test-Path $config)) {
    @{
        Bridge     = @{ Backend = 'windivert'; Pairs = @(@{ Name = 'gateway'; CameraInterface = "$CameraIfIndex"; UplinkInterface = "$UplinkIfIndex" }) }
        WinDivert  = @{ CameraNetworks = $CameraNetworks; QueueTimeMs = 500 }
        Policy     = @{ Directory = $policies; StateDirectory = (Join-Path $DataDir 'state') }
        Management = @{ Url = 'http://127.0.0.1:8080'; TokenFile = (Join-Path $DataDir 'api-token'); UnixSocket = '' }
    } | ConvertTo-Json -Depth 5 | Set-Content -Path $config -Encoding UTF8
}
& icacls.exe $DataDir /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed on $DataDir" }

# 4. The service.
$exe = Join-Path $InstallDir 'camfw.exe'
if (-not (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue)) {
    New-Service -Name $ServiceName -DisplayName 'camfw camera firewall (WinDivert gateway)' `
        -Description 'Inline firewall for IP-camera networks; IP forwarding on the camera and uplink interfaces is on only while it decides.' `
        -BinaryPathName "`"$exe`" run --config `"$config`"" -StartupType Automatic | Out-Null
}

# 5. Recovery: every failure runs the failsafe (forwarding off, then a restart); failureflag 1 also counts a
#    non-zero exit (a data-plane fault) as a failure, not only a crash. reset= 86400: the failure count resets daily.
$failsafe = "powershell.exe -NoProfile -ExecutionPolicy Bypass -File `"$(Join-Path $InstallDir 'failsafe.ps1')`" -Config `"$config`" -ServiceName $ServiceName"
& sc.exe failure $ServiceName reset= 86400 actions= run/0/run/0/run/0 command= $failsafe | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'sc.exe failure failed' }
& sc.exe failureflag $ServiceName 1 | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'sc.exe failureflag failed' }

if ($Start) { Start-Service -Name $ServiceName }
Write-Host "camfw installed as service '$ServiceName' ($exe); configuration $config."
