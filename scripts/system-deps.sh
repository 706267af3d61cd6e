#!/usr/bin/env bash
# Make sure the system packages Mahalle needs are present: Python venv, PostgreSQL server + PostGIS + pgRouting,
# GDAL's command-line tools (interoperability tests), Node.js/npm (front-end packages) and Chromium
# (browser tests and report screenshots). As root on Debian/Ubuntu they are installed
# with apt-get; otherwise the exact command to run is printed and the script fails.
set -euo pipefail

missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v ogrinfo >/dev/null || missing+=(gdal-bin)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v chromium >/dev/null || missing+=(chromium)
command -v make >/dev/null || missing+=(make)

pg_bin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ]; then pg_bin="$d"; break; fi
done
if [ -z "$pg_bin" ] && command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  pg_bin="$(pg_config --bindir)"
fi

need_apt_update=1
apt_install() {
  if [ "$need_apt_update" = 1 ]; then apt-get update -qq; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ -z "$pg_bin" ]; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${missing[*]}"
    apt_install "${missing[@]}"
  else
    echo "Mahalle needs these system packages: ${missing[*]}" >&2
    echo "Run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ -z "$pg_bin" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V -r | head -n 1)
fi
major=$(basename "$(dirname "$pg_bin")")
share=$("$pg_bin/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$major")
# PostGIS, and pgRouting for distances along the street network (coverage indicators).
extensions=()
[ -f "$share/extension/postgis.control" ] || extensions+=("postgresql-$major-postgis-3")
[ -f "$share/extension/pgrouting.control" ] || extensions+=("postgresql-$major-pgrouting")
if [ ${#extensions[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${extensions[*]}"
    apt_install "${extensions[@]}"
  else
    echo "PostgreSQL $major lacks extensions Mahalle needs." >&2
    echo "Run: sudo apt-get install -y ${extensions[*]}" >&2
    exit 1
  fi
fi
