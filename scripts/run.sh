#!/usr/bin/env bash
# Set up (idempotent) and run A-PACE's main job on its embedded defaults.  Extra arguments go to `apace run`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$APACE_ROOT"
exec apace run "$@"
