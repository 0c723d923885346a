#!/usr/bin/env bash
# The system programs the tests start for real: Debian's Chromium (browser tests), PostgreSQL (the shared
# store's catalog) and nginx (the reverse proxy of docs/deployment.md). Installed with apt-get when missing
# and allowed (root, or sudo without a password); otherwise says what is missing: those tests are then skipped
# with a message, except under CI=true where they fail.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
((${#missing[@]})) || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Programmes système absents : ${missing[*]} (pas d'apt-get ici) : les tests qui en ont besoin seront sautés." >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
  echo "Programmes système absents : ${missing[*]}. Installez-les : sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "Installation de : ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
