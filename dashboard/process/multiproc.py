"""prometheus-client's multiprocess mode for the web server's gunicorn workers.

Each gunicorn worker is its own process with its own metrics; /metrics, answered by
any one of them, must add up all of them. prometheus-client does that through files
in PROMETHEUS_MULTIPROC_DIR, which it reads when it is first imported, so the serve
command sets it before anything imports the app. The folder must start empty (old
files would add a previous run's counts): when the operator gives none, a fresh one
is made and removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import MutableMapping

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(environ: MutableMapping[str, str]) -> str:
    """The metrics folder the web workers share: the one given, else a fresh one."""
    if environ.get(ENV):
        return environ[ENV]
    folder = tempfile.mkdtemp(prefix="commandhall-metrics-")
    environ[ENV] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def leave(environ: MutableMapping[str, str]) -> None:
    """Keep a process out of the web workers' folder (the ingest worker has its own)."""
    environ.pop(ENV, None)
