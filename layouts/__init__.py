"""Dash layouts for the wall, desk and tablet views, and their components."""

from pathlib import Path

ASSETS = Path(__file__).parent / "assets"
