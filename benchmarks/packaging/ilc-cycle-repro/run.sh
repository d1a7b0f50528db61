#!/usr/bin/env bash
# Publishes the reduced case with NativeAOT: first as is (ILC 10.0.12 crashes), then the control without the cycle.
set -uo pipefail
cd "$(dirname "$0")"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== with the cross-assembly generic cycle (expected: ILC crashes with BadImageFormatException)"
dotnet publish App -c Release -r linux-x64 -o "$out/cycle" -nologo 2>&1 | grep -E "BadImageFormat|CreateValueFromKey|Code generation failed|App ->" | head -5
echo "== control, -p:DefineConstants=NO_CYCLE (expected: compiles and prints 2)"
dotnet publish App -c Release -r linux-x64 -o "$out/control" -nologo -p:DefineConstants=NO_CYCLE 2>&1 | grep -E "error|App ->" | head -5
"$out/control/App"
