#!/usr/bin/env bash
# Set up (idempotent) and run the default test run.  Extra arguments go to pytest.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$APACE_ROOT"
exec nox -s tests -- "$@"
