"""Dash layouts for the wall, desk and tablet views, and their components."""

import hashlib
from pathlib import Path

ASSETS = Path(__file__).parent / "assets"


def _build_id() -> str:
    # Screens compare this after a reconnect and reload when it changed, so an upgrade
    # of the pages reaches every unattended screen.
    digest = hashlib.sha256()
    for path in sorted(ASSETS.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


BUILD = _build_id()
