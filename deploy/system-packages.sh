#!/bin/sh
# The Debian packages a command needs, installed with apt-get when missing (as root on Debian);
# otherwise one line naming what to install, and exit 1. Called by `make run`, `make test`,
# `make cluster` and .ci/run.
#
#   deploy/system-packages.sh run|test|cluster
#
# run:     fonts-wqy-zenhei (certificates embed its CJK font)
# test:    that, chromium and libatomic1 (the Playwright journey), npm (installs axe-core for it),
#          poppler-utils (pdfsig checks signatures), libnss3-tools and faketime (pdfsig trusting the
#          development CA, at a time after a signing certificate expired) and haproxy
#          (e2e/test_cluster.py runs the cluster on the PostgreSQL + Redis run)
# cluster: the font and haproxy (the load balancer in front of the instances)
set -eu

purpose="${1:-test}"
need=""
font() { [ -n "${CJK_FONT:-}" ] && [ -r "$CJK_FONT" ] || [ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need="$need fonts-wqy-zenhei"; }
browser() { [ -n "${E2E_CHROMIUM:-}" ] && [ -x "$E2E_CHROMIUM" ] || [ -x /usr/bin/chromium ] || need="$need chromium"
  # Playwright's own driver (a bundled node) needs libatomic.so.1, absent from a minimal Debian
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libatomic\.so\.1 ' || need="$need libatomic1"; }
poppler() { command -v pdfsig >/dev/null 2>&1 || need="$need poppler-utils"
  command -v certutil >/dev/null 2>&1 || need="$need libnss3-tools"
  command -v faketime >/dev/null 2>&1 || need="$need faketime"; }
node() { command -v npm >/dev/null 2>&1 || need="$need npm"; }
balancer() { command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need="$need haproxy"; }

case "$purpose" in
  run) font ;;
  test) font; browser; node; poppler; balancer ;;
  cluster) font; balancer ;;
  *) echo "usage: $0 run|test|cluster" >&2; exit 2 ;;
esac
[ -z "$need" ] && exit 0
need="${need# }"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the Debian packages make $purpose needs: $need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $need >/dev/null
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  echo "make $purpose needs the Debian packages: $need (run: sudo apt-get install -y $need)" >&2
else
  echo "make $purpose needs: $need (Debian package names; elsewhere install Chromium, the WenQuanYi Zen Hei font, npm, poppler's pdfsig, NSS's certutil, faketime or HAProxy as your system names them)" >&2
fi
exit 1
