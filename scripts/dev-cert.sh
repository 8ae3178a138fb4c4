#!/bin/sh
# Creates a self-signed development certificate at var/tls/dev.{crt,key}
# unless one exists. Used by `make run`.
set -eu
dir=${1:-var/tls}
mkdir -p "$dir"
if [ ! -s "$dir/dev.crt" ] || [ ! -s "$dir/dev.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
        -subj "/CN=dev.qun.localhost" \
        -addext "subjectAltName=DNS:localhost,DNS:dev.qun.localhost,IP:127.0.0.1" \
        -keyout "$dir/dev.key" -out "$dir/dev.crt" 2>/dev/null
    chmod 600 "$dir/dev.key"
    echo "dev-cert: created $dir/dev.crt"
fi
if [ "$(id -u)" = 0 ] && getent passwd qun >/dev/null; then
    chown -R qun "$(dirname "$dir")"
fi
