#!/usr/bin/env bash
# Installs the real servers the test suite runs on loopback (see tests/lab/), and the
# desktop-integration validators the packaging tests call.
# Needs root for apt; as a normal user it only reports what is missing, and the
# tests that need a missing server are skipped with that reason.
set -euo pipefail
need=()
command -v named >/dev/null || need+=(bind9 bind9-dnsutils)
# Signing the DNSSEC lab tree (tests/lab/dnssec_lab.py): dnssec-keygen, dnssec-signzone, dnssec-dsfromkey.
command -v dnssec-signzone >/dev/null || need+=(bind9-utils)
command -v postfix >/dev/null || [ -x /usr/sbin/postfix ] || need+=(postfix)
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd dovecot-pop3d)
# DKIM signer of the mail-flow lab (tests/lab/mailflow.py): the milter, and opendkim-genkey from -tools.
{ command -v opendkim >/dev/null || [ -x /usr/sbin/opendkim ]; } &&
  { command -v opendkim-genkey >/dev/null || [ -x /usr/sbin/opendkim-genkey ]; } || need+=(opendkim opendkim-tools)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v Xvfb >/dev/null || need+=(xvfb xauth)
command -v dbus-run-session >/dev/null || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring libsecret-tools)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# Desktop integration checks (tests/test_packaging_metadata.py): AppStream, desktop entry, MIME type.
command -v appstreamcli >/dev/null || need+=(appstream)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v update-mime-database >/dev/null || need+=(shared-mime-info)
command -v xdg-mime >/dev/null || need+=(xdg-utils)
command -v mimetype >/dev/null || need+=(libfile-mimeinfo-perl)  # xdg-mime falls back to file(1) without it
# Qt's xcb platform plugin and friends (offscreen needs fewer, Xvfb screenshots need these)
dpkg -s libxkbcommon-x11-0 libegl1 libgl1 libxcb-cursor0 >/dev/null 2>&1 || need+=(
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3)
if [ ${#need[@]} -eq 0 ]; then
  echo "lab servers: all present"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "lab servers: missing ${need[*]} (not root, not installing; those tests will be skipped)"; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
