#!/usr/bin/env bash
# Makes a certificate authority and node certificates for recondbd's TLS and
# mTLS, with openssl only: for tests and a first deployment
# (docs/security.md, "TLS and certificates").
#
#   scripts/make-certs.sh [--expired] [--days N] [--ca-name NAME] DIR NODE [NODE...]
#
# Writes, into DIR (created if missing):
#   ca.pem, ca.key          the CA (made only if DIR/ca.pem does not exist yet,
#                           so that later runs add nodes to the same CA)
#   NODE.pem, NODE.key      one per NODE: an EC P-256 key and a certificate
#                           signed by the CA, subject CN=NODE, SAN DNS:NODE,
#                           DNS:localhost, IP:127.0.0.1 (and IP:NODE when NODE
#                           is an IPv4 address), extendedKeyUsage serverAuth and
#                           clientAuth: the same pair serves as --tls_cert/--tls_key
#                           and as the client certificate a node dials peers with.
# Options:
#   --days N       node certificates valid for N days from now (default 825;
#                  the CA: 3650).
#   --expired      node certificates that expired before they were made (valid
#                  2020-01-01 to 2020-01-02), for tests that must see them refused.
#   --ca-name NAME the CA's subject CN (default "recondb CA").
# Keys are written with mode 0600. Nothing is overwritten but NODE.pem/NODE.key.
set -euo pipefail

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
}

days=825
expired=0
ca_name="recondb CA"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --days) days="${2:?--days needs a value}"; shift 2 ;;
    --days=*) days="${1#--days=}"; shift ;;
    --expired) expired=1; shift ;;
    --ca-name) ca_name="${2:?--ca-name needs a value}"; shift 2 ;;
    --ca-name=*) ca_name="${1#--ca-name=}"; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) echo "make-certs.sh: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -ge 2 ]] || usage
dir="$1"
shift
[[ "$days" =~ ^[1-9][0-9]*$ ]] || { echo "make-certs.sh: --days must be a positive number" >&2; exit 1; }

mkdir -p "$dir"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

new_key() {  # $1: output path
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

if [[ ! -f "$dir/ca.pem" ]]; then
  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/CN=${ca_name}" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem"
  chmod 644 "$dir/ca.pem"
fi

for node in "$@"; do
  [[ "$node" =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || {
    echo "make-certs.sh: node name \"$node\" must be a host name" >&2
    exit 1
  }
  san="DNS:${node},DNS:localhost,IP:127.0.0.1"
  if [[ "$node" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then san="${san},IP:${node}"; fi
  cat >"$work/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=${san}
EOF
  new_key "$work/node.key"
  openssl req -new -key "$work/node.key" -subj "/CN=${node}" -out "$work/node.csr"
  if [[ $expired -eq 0 ]]; then
    openssl x509 -req -in "$work/node.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
      -CAcreateserial -CAserial "$work/ca.srl" -sha256 -days "$days" \
      -extfile "$work/ext.cnf" -out "$work/node.pem" 2>/dev/null
  else
    # `x509 -days` cannot reach into the past; `openssl ca` takes explicit dates.
    mkdir -p "$work/ca"
    : >"$work/ca/index.txt"
    openssl rand -hex 16 >"$work/ca/serial"
    cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = expired
[expired]
dir = $work/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
EOF
    openssl ca -batch -config "$work/ca.cnf" -cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
      -startdate 20200101000000Z -enddate 20200102000000Z -extfile "$work/ext.cnf" \
      -notext -in "$work/node.csr" -out "$work/node.pem" 2>/dev/null
  fi
  install -m 600 "$work/node.key" "$dir/${node}.key"
  install -m 644 "$work/node.pem" "$dir/${node}.pem"
  echo "$dir/${node}.pem"
done
