#!/usr/bin/env bash
# user.sh - creates the system user the service runs as when started as root (config key user),
# unless it exists. Called by scripts/deps.sh (make run, make test) and by `make install`.
#   scripts/user.sh [USER [HOME [DESTDIR]]]     defaults: trapline /var/lib/trapline ""
# A user of its own, not nobody: the control socket trusts every process of the service's
# user. Its home is the installed data directory, which the service creates on first start;
# it has no shell and no password. Nothing is done when packaging into a DESTDIR, or when not
# root (then it says what to run).
set -euo pipefail
user=${1:-trapline}
home=${2:-/var/lib/trapline}
destdir=${3:-}

[ -n "$destdir" ] && exit 0
getent passwd "$user" >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "user.sh: no user $user; as root: useradd --system --home-dir $home --no-create-home --shell /usr/sbin/nologin $user" >&2
	exit 0
fi
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false
useradd --system --user-group --home-dir "$home" --no-create-home --shell "$nologin" \
	--comment "Trapline DNS blocklist" "$user"
echo "user.sh: created the system user $user"
