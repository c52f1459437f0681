"""A world map as SVG paths, drawn on the server from Natural Earth boundaries.

The boundaries are world-atlas's `countries-110m.json` (TopoJSON of Natural Earth's
public-domain 1:110m countries, from npm; `settings.world_atlas` says where). They are
decoded and projected (Equal Earth) once per process; a map is then the same paths with
a class per country, so drawing one costs no geometry. Countries are keyed by their
ISO 3166-1 numeric code, which is the UN M49 code the graph gives (`dpg:m49`).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

WIDTH = 1000.0
# Equal Earth (Šavrič, Patterson, Jenny 2018)
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2
_X_MAX = 2.7206990  # x of (180°, 0°)
_SCALE = WIDTH / (2 * _X_MAX)
_TOP_LAT, _BOTTOM_LAT = 84.0, -58.0  # Antarctica left out: no DPG is deployed there
LEFT_OUT = {"010"}


class WorldAtlasMissing(Exception):
    """The boundaries file is not where the settings say."""


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 numeric, zero-padded ("404")
    name: str  # Natural Earth's short name
    path: str  # SVG path data in the map's coordinates


@dataclass(frozen=True)
class Dot:
    """A country too small for the 1:110m boundaries, drawn as a dot where it is."""

    code: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class WorldMap:
    width: int
    height: int
    countries: tuple[Country, ...]
    dots: tuple[Dot, ...] = ()

    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.countries) | {d.code for d in self.dots}


def _project(lon: float, lat: float) -> tuple[float, float]:
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(_M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


def _decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(arcs, indices: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def _unwrap(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring crossing the antimeridian (Russia, Fiji) made continuous, then held at the
    map's edge: otherwise it draws a stripe across the whole map."""
    out = [ring[0]]
    for lon, lat in ring[1:]:
        prev = out[-1][0]
        while lon - prev > 180:
            lon -= 360
        while prev - lon > 180:
            lon += 360
        out.append((lon, lat))
    mean = sum(lon for lon, _ in out) / len(out)
    if abs(mean) > 180:  # the ring started on its smaller side: move it back whole
        out = [(lon - math.copysign(360, mean), lat) for lon, lat in out]
    return [(max(-180.0, min(180.0, lon)), lat) for lon, lat in out]


def _path(rings: list[list[tuple[float, float]]], top: float) -> str:
    """SVG path data, relative moves in whole units of the 1000-wide map (small pages)."""
    out = []
    for ring in rings:
        pts = []
        for lon, lat in _unwrap(ring):
            x, y = _project(lon, lat)
            p = (round((x + _X_MAX) * _SCALE), round((top - y) * _SCALE))
            if not pts or p != pts[-1]:
                pts.append(p)
        if len(pts) < 3:
            continue
        steps = [f"{b[0] - a[0]} {b[1] - a[1]}" for a, b in itertools.pairwise(pts)]
        out.append(f"M{pts[0][0]} {pts[0][1]}l" + " ".join(steps) + "z")
    return "".join(out).replace(" -", "-")


def load(path: str | Path) -> WorldMap:
    """The map from a world-atlas TopoJSON file (decoded and projected; ~0.1 s)."""
    p = Path(path)
    if not p.is_file():
        raise WorldAtlasMissing(
            f"{p}: the country boundaries for the map are missing; run `npm ci` in the "
            "project root (it installs world-atlas) or point DPGKG_WORLD_ATLAS at "
            "world-atlas's countries-110m.json"
        )
    topo = json.loads(p.read_text())
    arcs = _decode_arcs(topo)
    top = _project(0, _TOP_LAT)[1]
    bottom = _project(0, _BOTTOM_LAT)[1]
    countries = []
    for g in topo["objects"]["countries"]["geometries"]:
        code = g.get("id")
        if not code or code in LEFT_OUT or g.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        rings = [_ring(arcs, ring) for poly in polygons for ring in poly]
        d = _path(rings, top)
        if d:
            countries.append(Country(code, g.get("properties", {}).get("name", code), d))
    countries.sort(key=lambda c: c.code)
    drawn = {c.code for c in countries}
    dots = _dots(p.with_name(p.name.replace("110m", "50m")), drawn, top)
    return WorldMap(round(WIDTH), round((top - bottom) * _SCALE), tuple(countries), dots)


def _dots(path: Path, drawn: set[str], top: float) -> tuple[Dot, ...]:
    """Where the countries the 110m file leaves out are, from the 50m file beside it."""
    if not path.is_file():
        raise WorldAtlasMissing(
            f"{path}: world-atlas's 1:50m countries are missing (they place "
            "the small countries on the map); run `npm ci`"
        )
    topo = json.loads(path.read_text())
    arcs = None
    out = []
    for g in topo["objects"]["countries"]["geometries"]:
        code = g.get("id")
        if (
            not code
            or code in drawn
            or code in LEFT_OUT
            or g.get("type") not in ("Polygon", "MultiPolygon")
        ):
            continue
        arcs = arcs or _decode_arcs(topo)
        polygons = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        rings = [_unwrap(_ring(arcs, poly[0])) for poly in polygons]
        ring = max(
            rings,
            key=lambda r: (
                (max(x for x, _ in r) - min(x for x, _ in r))
                * (max(y for _, y in r) - min(y for _, y in r))
            ),
        )
        lon = (max(x for x, _ in ring) + min(x for x, _ in ring)) / 2
        lat = (max(y for _, y in ring) + min(y for _, y in ring)) / 2
        x, y = _project(lon, lat)
        out.append(
            Dot(
                code,
                g.get("properties", {}).get("name", code),
                round((x + _X_MAX) * _SCALE, 1),
                round((top - y) * _SCALE, 1),
            )
        )
    return tuple(sorted(out, key=lambda d: d.code))


_maps: dict[str, WorldMap] = {}
_lock = threading.Lock()


def world_map(path: str | Path) -> WorldMap:
    """The map of `path`, loaded once per process."""
    key = str(path)
    if key not in _maps:
        with _lock:
            if key not in _maps:
                _maps[key] = load(key)
    return _maps[key]
