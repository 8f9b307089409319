#!/usr/bin/env bash
# Style and analyzers, checked before the tests: the rules an editor shows from .editorconfig, so that style is
# never a review topic. Fails on the first problem; fast enough to run on every change (about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."

# the analyzers and code-style rules .editorconfig raises to warnings fail a Release build (warnings are errors)
dotnet build WorkflowGraph.sln -c Release --nologo -v quiet
# layout, usings and style fixes that dotnet format would make
dotnet format WorkflowGraph.sln --verify-no-changes --no-restore
# max_line_length: no analyzer checks it, so it is checked here
long=$(git ls-files '*.cs' | xargs awk 'length > 140 { print "  " FILENAME ":" FNR " (" length " characters)" }')
if [[ -n $long ]]; then
  echo "Lines longer than 140 characters (.editorconfig max_line_length):" >&2
  echo "$long" >&2
  exit 1
fi
