# Sourced by the other scripts: install what the project needs on a fresh machine.
# Idempotent and quiet when everything is already there.

log() { printf '\n==> %s\n' "$*"; }

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    log "installing uv with pip"
    python3 -m pip install --quiet uv
    export PATH="$(python3 -m site --user-base 2>/dev/null)/bin:$PATH"
  fi
}

ensure_workspace() {
  log "uv sync (the workspace, from uv.lock)"
  uv sync --locked --quiet
}

# Debian packages of the test servers (OpenSSH for SFTP) and the demo's browser test
# (Chromium, driven by Playwright: no browser download); needs root, as CI is.
ensure_debian_packages() {
  local missing=()
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "cannot install ${missing[*]} (not root or no apt-get): their tests will skip"
    return 0
  fi
  log "apt-get install ${missing[*]}"
  # A failed install is reported, not fatal: the tests that need it skip with the reason.
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null; } || log "apt-get install ${missing[*]} failed: their tests will skip"
}

# npm servers (s3rver; later azurite) into ./node_modules, from package-lock.json.
ensure_npm_packages() {
  if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: the tests that need npm servers will skip"
    return 0
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    log "npm ci (local test servers)"
    npm ci --no-audit --no-fund --silent >/dev/null ||
      log "npm ci failed: the tests that need npm servers will skip"
  fi
}

# Print the path of a Python >= 3.12 (Django 6 needs it), or nothing.
find_python312() {
  local candidate
  for candidate in \
      "$(uv python find '>=3.12' 2>/dev/null)" \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V -r) \
      "$(command -v python3.13 2>/dev/null)" "$(command -v python3.12 2>/dev/null)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 0
}
