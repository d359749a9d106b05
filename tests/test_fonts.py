"""The font we serve (layouts/assets/fonts/) has a glyph for every text we show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.domain.catalogue import load_catalogue
from layouts import ASSETS
from layouts.i18n import LABELS

FONTS = ASSETS / "fonts"
FACE = re.compile(r"font-weight: (\d+);.*?unicode-range: ([^;]+);", re.S)


def served_ranges() -> dict[int, list[tuple[int, int]]]:
    """Code point ranges of fonts.css, per weight."""
    by_weight: dict[int, list[tuple[int, int]]] = {}
    for weight, ranges in FACE.findall((FONTS / "fonts.css").read_text()):
        for part in ranges.split(","):
            low, _, high = part.strip().removeprefix("U+").partition("-")
            by_weight.setdefault(int(weight), []).append((int(low, 16), int(high or low, 16)))
    return by_weight


def shown_text() -> str:
    """Labels in both languages, the city's names and the scripts' and styles' own words."""
    catalogue = load_catalogue()
    names = [u.name for u in catalogue.units.values()]
    names += [c.name for c in catalogue.categories.values()]
    names += [d.name for d in catalogue.districts.values()]
    labels = [text for language in LABELS.values() for text in language.values()]
    assets = [p.read_text(encoding="utf-8") for p in [*ASSETS.glob("*.js"), *ASSETS.glob("*.css")]]
    return "".join(names + labels + assets)


@pytest.mark.parametrize("weight", [400, 700])
def test_every_shown_character_is_in_the_served_font(weight: int) -> None:
    """No label or name falls back to whatever font the display PC has (docs/fonts.py)."""
    ranges = served_ranges()[weight]
    missing = {
        ch
        for ch in shown_text()
        if ord(ch) > 0x7F and not any(low <= ord(ch) <= high for low, high in ranges)
    }
    assert not missing, f"run docs/fonts.py: no glyphs for {''.join(sorted(missing))}"


def test_the_font_licence_is_beside_it() -> None:
    """The SIL Open Font License travels with the font files."""
    assert "SIL Open Font License" in (FONTS / "LICENSE").read_text()
    assert list(Path(FONTS).glob("*.woff2"))
