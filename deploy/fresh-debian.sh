#!/bin/sh
# The README's promise, checked on a fresh Debian 12: debootstrap a minimal bookworm into a folder,
# add only Python 3.11, git and make (and this workplace's CA certificates, if its network needs
# them), clone this repository into it and run `make test` there as root, with nothing else.
#   sudo sh deploy/fresh-debian.sh [folder (default /var/tmp/govservice-fresh)]
# Needs debootstrap (apt-get install debootstrap) and root; PostgreSQL and Redis are not used
# (make test's defaults are SQLite and no Redis). Prints make test's own output; exits with its status.
set -eu
root=${1:-/var/tmp/govservice-fresh}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fresh-debian.sh: run as root (debootstrap and chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y debootstrap
[ -x "$root/usr/bin/apt-get" ] || debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
for fs in proc sys dev; do
  mountpoint -q "$root/$fs" || mount --rbind "/$fs" "$root/$fs"
done
trap 'for fs in dev sys proc; do umount -R "$root/$fs" 2>/dev/null || true; done' EXIT
cp /etc/resolv.conf "$root/etc/"
# A network that inspects TLS hands out its own CA: the fresh machine gets the same certificates.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv git make ca-certificates >/dev/null && update-ca-certificates >/dev/null'
rm -rf "$root/root/govservice"
git clone -q "$repo" "$root/root/govservice"
bundle=/etc/ssl/certs/ca-certificates.crt
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  SSL_CERT_FILE=$bundle PIP_CERT=$bundle REQUESTS_CA_BUNDLE=$bundle NODE_EXTRA_CA_CERTS=$bundle \
  sh -c 'cd /root/govservice && make test'
