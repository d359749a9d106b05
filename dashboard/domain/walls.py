"""Walls are screens side by side: which views each screen shows, and for how long.

A screen is named `<wall>/<screen>`; its display token carries that name, so a
screen shows its part as soon as it opens its URL. A screen with several views
rotates through them. Screens nobody configured show the overview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dashboard.domain.configfile import ConfigError, Record, Seen, record, top_records

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "walls.yaml"
DEFAULT_SECONDS = 60.0


class View(StrEnum):
    """What a screen can show."""

    OVERVIEW = "overview"  # KPI strip, map and boards together
    MAP = "map"
    BOARDS = "boards"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Shown:
    """One view of a screen's rotation and how long it stays."""

    view: View
    seconds: float


@dataclass(frozen=True)
class Screen:
    """One physical screen of a wall."""

    id: str
    views: tuple[Shown, ...] = (Shown(View.OVERVIEW, DEFAULT_SECONDS),)
    bounds: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    page_seconds: float = 15.0  # how long a page of boards stays when not all fit
    # What the screen shows while emergency mode is in force.
    emergency_views: tuple[Shown, ...] = (Shown(View.EMERGENCY, DEFAULT_SECONDS),)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the screen's page."""
        return {
            "id": self.id,
            "views": [{"view": s.view.value, "seconds": s.seconds} for s in self.views],
            "bounds": self.bounds,
            "page_seconds": self.page_seconds,
            "emergency_views": [
                {"view": s.view.value, "seconds": s.seconds} for s in self.emergency_views
            ],
        }


@dataclass(frozen=True)
class Walls:
    """Every configured screen, by id."""

    screens: Mapping[str, Screen] = field(default_factory=lambda: MappingProxyType({}))

    def screen(self, screen_id: str | None) -> Screen:
        """A screen's configuration; the overview for one nobody configured."""
        return self.screens.get(screen_id or "", Screen(id=screen_id or ""))


def load_walls(path: Path | str | None = None) -> Walls:
    """Read a walls file (the built-in example when none is given)."""
    path = Path(path) if path else DEFAULT_FILE
    screens: dict[str, Screen] = {}
    seen = Seen()
    for wall in top_records(path, "walls"):
        wall.subject = "wall"
        wall.only({"wall", "screens"})
        name = wall.text("wall")
        for rec in wall.children("screens"):
            rec.subject = f"screen of wall {name}"
            screen = _screen(rec, name)
            seen.add(rec, "screen", screen.id, "name")
            screens[screen.id] = screen
    return Walls(MappingProxyType(screens))


def _screen(rec: Record, wall: str) -> Screen:
    rec.only({"name", "views", "seconds", "bounds", "page_seconds", "emergency_views"})
    seconds = _seconds(rec, rec.fields.get("seconds", DEFAULT_SECONDS), "seconds")
    shown = _views(rec, "views", seconds)
    page = _seconds(rec, rec.fields.get("page_seconds", 15.0), "page_seconds")
    screen = Screen(f"{wall}/{rec.text('name')}", shown, _bounds(rec), page)
    if "emergency_views" in rec.fields:
        screen = replace(screen, emergency_views=_views(rec, "emergency_views", seconds))
    return screen


def _views(rec: Record, key: str, seconds: float) -> tuple[Shown, ...]:
    views = rec.fields.get(key)
    if not isinstance(views, list) or not views:
        rec.fail(f"{rec.subject} needs a non-empty list under '{key}'", key)
    return tuple(_shown(rec, item, seconds) for item in views)


def _shown(rec: Record, item: Any, seconds: float) -> Shown:
    if isinstance(item, str):
        return Shown(_view(rec, item), seconds)
    entry = record(rec.file, item, rec.lines.get("views", rec.line))
    entry.subject = "view"
    entry.only({"view", "seconds"})
    return Shown(
        _view(entry, entry.text("view")),
        _seconds(entry, entry.fields.get("seconds", seconds), "seconds"),
    )


def _view(rec: Record, name: str) -> View:
    try:
        return View(name)
    except ValueError:
        allowed = ", ".join(v.value for v in View)
        rec.fail(f"unknown view '{name}' (views: {allowed})", "views")


def _seconds(rec: Record, value: Any, key: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        rec.fail(f"'{key}' must be a number of seconds, not {value!r}", key)
    if seconds < 5:
        rec.fail(f"'{key}' must be at least 5 seconds, not {seconds:g}", key)
    return seconds


def _bounds(rec: Record) -> tuple[float, float, float, float] | None:
    value = rec.fields.get("bounds")
    if value is None:
        return None
    try:
        west, south, east, north = (float(v) for v in value)
    except (TypeError, ValueError):
        rec.fail("'bounds' must be [min_lon, min_lat, max_lon, max_lat]", "bounds")
    if not (west < east and south < north):
        rec.fail("'bounds' must run west < east and south < north", "bounds")
    return west, south, east, north


__all__ = ["ConfigError", "Screen", "Shown", "View", "Walls", "load_walls"]
