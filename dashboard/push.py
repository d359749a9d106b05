"""The web side of live push: who may connect to Socket.IO."""

from __future__ import annotations

import logging
from typing import Any

from dashboard.app import App
from dashboard.guard import viewer

log = logging.getLogger(__name__)


def register(app: App) -> None:
    """Accept a Socket.IO connection only from a signed-in user or an active display."""

    @app.socketio.on("connect")
    def connect(auth: Any = None) -> bool:
        who = viewer(app)
        if who is None:
            log.info("Push: refused a connection without a valid session")
            return False
        return True
