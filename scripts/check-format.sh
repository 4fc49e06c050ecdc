#!/bin/bash
# Fails when clang-format (the repo's .clang-format) would change any C file.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests bench -name '*.[ch]')
bad=0
for f in $files; do
        [ -f "$f" ] || continue
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
                echo "needs clang-format: $f"
                bad=1
        fi
done
exit $bad
