"""Wall configuration: screens, their views and rotation, refused when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.domain.configfile import ConfigError
from dashboard.domain.walls import View, load_walls


def write(tmp_path: Path, text: str) -> Path:
    """A walls file with the given text."""
    path = tmp_path / "walls.yaml"
    path.write_text(text)
    return path


def test_example_walls_load() -> None:
    """The shipped example has a three-screen hall whose right screen rotates."""
    walls = load_walls()
    right = walls.screen("hall/right")
    assert [s.view for s in right.views] == [View.BOARDS, View.OVERVIEW]
    assert [s.seconds for s in right.views] == [90.0, 30.0]
    assert walls.screen("hall/left").bounds is not None


def test_unconfigured_screen_shows_the_overview() -> None:
    """A token named after no configured screen still gets a useful picture."""
    screen = load_walls().screen("lobby")
    assert [s.view for s in screen.views] == [View.OVERVIEW] and screen.id == "lobby"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "- wall: a\n  screens:\n    - name: x\n      views: [maps]\n",
            "line 4: unknown view 'maps'",
        ),
        ("- wall: a\n  screens:\n    - name: x\n      views: []\n", "non-empty list"),
        (
            "- wall: a\n  screens:\n    - {name: x, views: [map]}\n    - {name: x, views: [map]}\n",
            "duplicate screen",
        ),
        ("- wall: a\n  screens:\n    - {name: x, views: [map], seconds: 1}\n", "at least 5"),
        (
            "- wall: a\n  screens:\n    - {name: x, views: [map], bounds: [3, 2, 1, 0]}\n",
            "west < east",
        ),
        (
            "- wall: a\n  screens:\n    - {name: x, views: [map], colour: red}\n",
            "unknown field 'colour'",
        ),
    ],
)
def test_bad_walls_file_is_refused(tmp_path: Path, text: str, words: str) -> None:
    """A mistake is refused naming the file, the line and the problem."""
    with pytest.raises(ConfigError) as caught:
        load_walls(write(tmp_path, text))
    assert "walls.yaml" in str(caught.value) and words in str(caught.value)
