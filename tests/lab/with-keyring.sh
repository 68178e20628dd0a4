#!/usr/bin/env bash
# with-keyring.sh CMD [ARGS...]
#
# Runs CMD inside a private D-Bus session with an unlocked gnome-keyring (SecretService),
# so the keyring integration test talks to the real thing instead of being skipped or,
# worse, silently falling back to a plaintext file (lab-servers.md section 7.1).
#
# - fresh XDG_RUNTIME_DIR (0700) and XDG_DATA_HOME: the developer's real keyring and home
#   directory are never touched, and the keyring files vanish afterwards;
# - the unlock password must be non-empty, otherwise no "login" collection is created and
#   the first write fails with "Prompt dismissed" (no display for gcr-prompter; 7.2);
# - gnome-keyring-daemon exits with the session bus, so nothing is left running.
#
# Without dbus-run-session or gnome-keyring-daemon, CMD runs directly (the SecretService
# test then skips, or fails in CI). The exit status is CMD's.
#
# Usage (Makefile): tests/lab/with-keyring.sh .venv/bin/python -m pytest
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-keyring: dbus-run-session or gnome-keyring-daemon not installed; running without a keyring" >&2
  exec "$@"
fi

runtime_dir=$(mktemp -d "${TMPDIR:-/tmp}/auditapp-keyring-run.XXXXXX")
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/auditapp-keyring-data.XXXXXX")
cleanup() {
  # gnome-keyring-daemon may still be writing its files while it exits with the bus.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    rm -rf -- "$runtime_dir" "$data_dir" 2>/dev/null && return 0
    sleep 0.1
  done
  rm -rf -- "$runtime_dir" "$data_dir"
}
trap cleanup EXIT
chmod 700 "$runtime_dir" "$data_dir"

export XDG_RUNTIME_DIR="$runtime_dir" XDG_DATA_HOME="$data_dir"
# The keyring password only protects throw-away files in $data_dir.
export AUDITAPP_LAB_KEYRING_PASSWORD="${AUDITAPP_LAB_KEYRING_PASSWORD:-lab-keyring-pw}"

set +e
# shellcheck disable=SC2016  # expanded by the inner shell
dbus-run-session -- bash -c '
  set -euo pipefail
  # Prints GNOME_KEYRING_CONTROL=... (and maybe SSH_AUTH_SOCK=...); export them for CMD.
  env_lines=$(printf %s "$AUDITAPP_LAB_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets)
  while IFS= read -r line; do
    [ -n "$line" ] && export "${line?}"
  done <<<"$env_lines"
  unset AUDITAPP_LAB_KEYRING_PASSWORD
  exec "$@"
' with-keyring "$@"
rc=$?
set -e
exit "$rc"
