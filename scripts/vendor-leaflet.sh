#!/usr/bin/env bash
# Refreshes web/vendor/leaflet/ (the map library the console embeds) from
# the npm registry, reproducibly: the package is pinned by version and by
# the registry's sha512 integrity, fetched with `npm pack` into a throwaway
# directory, checked, and only its built files and licence are copied.
#
# Usage: scripts/vendor-leaflet.sh
# To move to another version, change VERSION and INTEGRITY together
# (`npm view leaflet@X.Y.Z dist.integrity`), run this, rebuild and run the
# console tests (cargo test --test console).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.9.4
INTEGRITY=sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==
DEST=web/vendor/leaflet
# The built files the console loads, and the licence.
FILES=(
  dist/leaflet.js
  dist/leaflet.css
  dist/images/layers.png
  dist/images/layers-2x.png
  dist/images/marker-icon.png
  dist/images/marker-icon-2x.png
  dist/images/marker-shadow.png
  LICENSE
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "leaflet@$VERSION" >/dev/null)
tarball="$work/leaflet-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
  echo "leaflet-$VERSION.tgz integrity mismatch: expected $INTEGRITY, got $actual" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work"

rm -rf "$DEST"
mkdir -p "$DEST/images"
for file in "${FILES[@]}"; do
  target="$DEST/${file#dist/}"
  install -m 0644 "$work/package/$file" "$target"
done
cat > "$DEST/VERSION" <<EOF
leaflet $VERSION from https://registry.npmjs.org/leaflet/-/leaflet-$VERSION.tgz
integrity $INTEGRITY
licence BSD-2-Clause (LICENSE)
refreshed by scripts/vendor-leaflet.sh
EOF

echo "vendored leaflet $VERSION into $DEST:"
(cd "$DEST" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum | tee SHA256SUMS)
