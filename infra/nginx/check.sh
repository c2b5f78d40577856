#!/usr/bin/env bash
# Checks the nginx configuration with `nginx -t` for every environment, with a throwaway
# self-signed certificate and the upstream host mapped to loopback. Used by .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here"/. "$work"/
mkdir -p "$work/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$work/tls/tls.key" -out "$work/tls/tls.crt" 2>/dev/null
# `krawall` resolves only inside compose; point it at loopback for the syntax check.
sed -i 's/server krawall:3000;/server 127.0.0.1:3000;/' "$work/nginx.conf"
for env in "$work"/env/*.conf; do
  name="$(basename "$env" .conf)"
  [ "$name" = current ] && continue
  cp "$env" "$work/env/current.conf"
  if ! nginx -t -q -p "$work/" -c "$work/nginx.conf"; then
    echo "nginx -t failed for $name" >&2
    exit 1
  fi
  echo "nginx config ok ($name)"
done
