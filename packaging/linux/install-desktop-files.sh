#!/usr/bin/env bash
# Installs auditapp's desktop integration (menu entry, AppStream metainfo, the .auditproj MIME
# type and the icons) into a prefix, by default ~/.local, without root.
#
#   packaging/linux/install-desktop-files.sh                       # into ~/.local
#   PREFIX=/tmp/x packaging/linux/install-desktop-files.sh         # into /tmp/x (tests)
#   packaging/linux/install-desktop-files.sh --prefix /usr/local   # system-wide (needs root)
#   packaging/linux/install-desktop-files.sh --link-binary dist/auditapp/auditapp
#        also links PREFIX/bin/auditapp to the frozen program (the menu entry runs `auditapp`)
#   packaging/linux/install-desktop-files.sh --uninstall           # removes what it installed
#
# Afterwards it refreshes the MIME, desktop and icon caches with update-mime-database,
# update-desktop-database and gtk-update-icon-cache where those are installed.
set -euo pipefail

APP_ID=de.auditapp.auditapp
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ICONS="$ROOT/resources/icons"
SIZES=(16 24 32 48 64 128 256 512)

prefix=${PREFIX:-$HOME/.local}
link_binary=""
uninstall=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --link-binary) link_binary=${2:?--link-binary needs a path}; shift 2 ;;
        --link-binary=*) link_binary=${1#--link-binary=}; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "install-desktop-files.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

share="$prefix/share"
hicolor="$share/icons/hicolor"
targets=(
    "$share/applications/$APP_ID.desktop"
    "$share/metainfo/$APP_ID.metainfo.xml"
    "$share/mime/packages/$APP_ID-mime.xml"
    "$hicolor/scalable/apps/$APP_ID.svg"
)
for size in "${SIZES[@]}"; do
    targets+=("$hicolor/${size}x${size}/apps/$APP_ID.png")
done

refresh_caches() {
    if command -v update-mime-database >/dev/null 2>&1 && [[ -d "$share/mime" ]]; then
        update-mime-database "$share/mime"
    fi
    if command -v update-desktop-database >/dev/null 2>&1 && [[ -d "$share/applications" ]]; then
        update-desktop-database -q "$share/applications"
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [[ -d "$hicolor" ]]; then
        # -t: a user prefix has no hicolor index.theme; -f: rebuild even if the cache looks fresh.
        gtk-update-icon-cache -q -t -f "$hicolor" || true
    fi
}

if [[ $uninstall -eq 1 ]]; then
    rm -f "${targets[@]}"
    if [[ -L "$prefix/bin/auditapp" ]]; then
        rm -f "$prefix/bin/auditapp"
    fi
    refresh_caches
    echo "auditapp desktop files removed from $prefix"
    exit 0
fi

install -D -m 0644 "$HERE/$APP_ID.desktop" "$share/applications/$APP_ID.desktop"
install -D -m 0644 "$HERE/$APP_ID.metainfo.xml" "$share/metainfo/$APP_ID.metainfo.xml"
install -D -m 0644 "$HERE/$APP_ID-mime.xml" "$share/mime/packages/$APP_ID-mime.xml"
install -D -m 0644 "$ICONS/auditapp.svg" "$hicolor/scalable/apps/$APP_ID.svg"
for size in "${SIZES[@]}"; do
    install -D -m 0644 "$ICONS/auditapp-$size.png" "$hicolor/${size}x${size}/apps/$APP_ID.png"
done

if [[ -n "$link_binary" ]]; then
    binary=$(cd "$(dirname "$link_binary")" && pwd)/$(basename "$link_binary")
    [[ -x "$binary" ]] || { echo "install-desktop-files.sh: not an executable: $binary" >&2; exit 1; }
    mkdir -p "$prefix/bin"
    ln -sfn "$binary" "$prefix/bin/auditapp"
fi

refresh_caches
echo "auditapp desktop files installed into $prefix"
if [[ -z "$link_binary" ]] && ! command -v auditapp >/dev/null 2>&1; then
    echo "note: 'auditapp' is not on PATH; the menu entry runs it (use --link-binary PATH)" >&2
fi
