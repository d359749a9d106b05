"""The `commandhall` command: parse arguments, call the package, report start-up
problems as one line. Every setting is a flag and a COMMANDHALL_* variable; this is
the only module that reads the environment (rq's cli/helpers.py does the same)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dashboard.domain.configfile import ConfigError
from dashboard.runtime import StartupError
from dashboard.settings import SETTINGS, Settings


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one option per declared setting to a command."""
    for setting in reversed(SETTINGS):
        command = click.option(
            setting.flag,
            setting.name,
            default=setting.default,
            type=type(setting.default),
            envvar=setting.envvar,
            show_default=True,
            help=setting.help,
        )(command)
    return command


def to_settings(values: dict[str, Any]) -> Settings:
    """Settings from the parsed options."""
    return Settings(**{s.name: values.pop(s.name) for s in SETTINGS})


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for clean shutdown of loops."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@click.group()
@click.option("--log-level", default="INFO", envvar="COMMANDHALL_LOG_LEVEL", show_default=True)
def main(log_level: str) -> None:
    """command hall: the real-time dashboard of a city-management command centre."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic talks at INFO whenever it opens a context (each start reads the revision);
    # init_db says in one line when it actually migrates.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """The database schema: upgrade it, check it, say where it is."""


def _engine(values: dict[str, Any]) -> Any:
    from dashboard.store.db import make_engine

    return make_engine(to_settings(values).resolved_database_url)


def _shown(engine: Any) -> str:
    return engine.url.render_as_string(hide_password=True)


@db.command("upgrade")
@settings_options
def db_upgrade(**values: Any) -> None:
    """Create the schema, or run the migrations it lacks (back up first)."""
    from dashboard.store import migrate
    from dashboard.store.db import init_db

    engine = _engine(values)
    init_db(engine)
    click.echo(f"database at revision {migrate.head()}: {_shown(engine)}")


@main.command("init-db")
@settings_options
@click.pass_context
def init_db_command(context: click.Context, **values: Any) -> None:
    """The same as `db upgrade` (kept for scripts)."""
    context.invoke(db_upgrade, **values)


@db.command("check")
@settings_options
def db_check(**values: Any) -> None:
    """Exit 1 if the database is not the models' schema, saying how it differs."""
    from dashboard.store import migrate

    engine = _engine(values)
    with engine.connect() as connection:
        problems = migrate.problems(connection)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"database matches the models at revision {migrate.head()}: {_shown(engine)}")


@db.command("current")
@settings_options
def db_current(**values: Any) -> None:
    """Print the database's revision and the release's head."""
    from dashboard.store import migrate

    with _engine(values).connect() as connection:
        revision = migrate.current(connection)
    click.echo(f"database: {revision or 'no revision (empty, or made before migrations)'}")
    click.echo(f"head: {migrate.head()}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="what the migration does")
def db_revision(message: str) -> None:
    """Write the next migration from the models' changes (for developers)."""
    from dashboard.store import migrate

    path = migrate.new_revision(message)
    if path is None:
        raise click.ClickException("the models equal the head revision: nothing to migrate")
    click.echo(f"wrote {path}: read it, correct it, then `commandhall db check`")


@main.command()
@settings_options
@click.option("--workers", default=1, show_default=True, help="gunicorn worker processes")
@click.option(
    "--connections", default=2000, show_default=True, help="open connections (screens) per worker"
)
def serve(workers: int, connections: int, **values: Any) -> None:
    """Run the web server."""
    from dashboard.process import multiproc

    # Before anything imports prometheus-client: it reads the folder at import.
    multiproc.prepare(os.environ)
    from dashboard import runtime
    from dashboard.process import serve as web

    settings = to_settings(values)
    settings = settings.with_(redis_url=runtime.redis_url(settings))
    web.serve(settings, workers=workers, connections=connections)


@main.command()
@settings_options
@click.option("--name", default=None, help="consumer name; default host-pid")
def ingest(name: str | None, **values: Any) -> None:
    """Run the ingest worker: stream → database → screens."""
    from dashboard.process import multiproc

    multiproc.leave(os.environ)  # its metrics are its own (dashboard/ingest/metrics.py)
    from dashboard.ingest import metrics
    from dashboard.process.worker import build_ingest

    settings = to_settings(values)
    worker = build_ingest(settings, name or f"{socket.gethostname()}-{_pid()}")
    if settings.ingest_metrics_port:
        metrics.serve(settings.host, settings.ingest_metrics_port, settings.metrics_allow)
    worker.run(stop_on_signals())


@main.command()
@settings_options
@click.option("--rate", default=1.0, show_default=True, help="events per second (day average)")
@click.option("--seed", default=None, type=int, help="random seed for a repeatable city")
@click.option("--backfill-hours", default=24.0, show_default=True, help="history to start with")
@click.option("--busy", is_flag=True, help="every hour as busy as the day's peak")
@click.option("--adopt-open", is_flag=True, help="also play the open cases in the database")
def simulate(
    rate: float,
    seed: int | None,
    backfill_hours: float,
    busy: bool,
    adopt_open: bool,
    **values: Any,
) -> None:
    """Publish a simulated city's case events to the stream.

    The city follows the time of day (quiet at night); --busy overrides the rhythm.
    """
    from dashboard.process.worker import run_simulator
    from dashboard.sim.simulator import SimulatorConfig

    config = SimulatorConfig(rate=rate, seed=seed, backfill_hours=backfill_hours, busy=busy)
    run_simulator(to_settings(values), config, stop_on_signals(), adopt_open)


@main.command()
@settings_options
# 1 event/s is a big city's busy day (~20,000 cases); raise it to watch a typhoon.
@click.option("--rate", default=1.0, show_default=True, help="simulated events per second")
@click.option("--busy", is_flag=True, help="simulate the day's peak at every hour (night demos)")
@click.option("--fresh", is_flag=True, help="forget the previous run's cases and start over")
@click.option("--keep-data", is_flag=True, hidden=True)  # the default now; kept for scripts
@click.option(
    "--replay",
    "export",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="play a real 311 export (from now on) instead of the simulator",
)
@click.option(
    "--speed", default=60.0, show_default=True, help="replay speed (60: an hour a minute)"
)
def demo(
    rate: float,
    busy: bool,
    fresh: bool,
    keep_data: bool,
    export: str | None,
    speed: float,
    **values: Any,
) -> None:
    """Start everything: embedded Redis, SQLite, simulator, ingest and the web server.

    A restart keeps the city (cases, accounts, tokens) and the Redis port. With
    --replay FILE (and --city-dir of that city) a real city's day plays instead.
    """
    from dashboard.process.demo import run_demo

    replay = (str(Path(export).resolve()), speed) if export else None
    sys.exit(run_demo(to_settings(values), rate, fresh=fresh, busy=busy, replay=replay))


@main.command()
@click.argument("events", type=click.File("r"), default="-")
@settings_options
def publish(events: Any, **values: Any) -> None:
    """Publish contract-v1 events from a file or standard input (- by default).

    One JSON object per line, or one JSON array of objects; each is checked against
    the contract before anything is sent. No redis-cli needed.
    """
    from dashboard import runtime
    from streams.producer import Producer, read_events

    settings = to_settings(values)
    try:
        batch = read_events(events.read())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    connection = runtime.connect(runtime.redis_url(settings))
    Producer(connection, settings.stream_key).publish_many(batch)
    click.echo(f"published {len(batch)} event(s) to {settings.stream_key}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "family",
    type=click.Choice(["auto", "nyc", "la", "baltimore", "open311"]),
    default="auto",
    show_default=True,
    help="the export's family; auto reads the header",
)
@click.option(
    "--speed",
    default=0.0,
    show_default=True,
    help="seconds of the export per second (60: an hour a minute); 0: at once",
)
@click.option("--from-now", is_flag=True, help="shift the export to start now, to watch it live")
@click.option("--limit", type=int, default=None, help="replay only the first N rows")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="mapping file; default: replay.yaml of the city folder",
)
@settings_options
def replay(
    file: Path,
    family: str,
    speed: float,
    from_now: bool,
    limit: int | None,
    mapping: Path | None,
    **values: Any,
) -> None:
    """Publish a real 311 export as case stories, with the records' own times."""
    from dashboard.process.feeds import run_replay

    settings = to_settings(values)
    summary = run_replay(settings, file, family, speed, from_now, mapping, limit)
    for line in summary.lines():
        click.echo(line)


@main.group()
def open311() -> None:
    """Open311 GeoReport v2 servers as feeds."""


@open311.command("pull")
@click.option("--endpoint", required=True, help="the server's base URL (…/open311/v2)")
@click.option("--jurisdiction", default=None, help="jurisdiction_id, where the server wants one")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--every", type=float, default=None, help="poll every SECONDS (default: once)")
@click.option("--since", default=None, help="start of the first window (ISO 8601); default 1 day")
@click.option("--updated", is_flag=True, help="window by updated_after/updated_before")
@settings_options
def open311_pull(
    endpoint: str,
    jurisdiction: str | None,
    mapping: Path | None,
    every: float | None,
    since: str | None,
    updated: bool,
    **values: Any,
) -> None:
    """Poll a GeoReport v2 server's requests.json and publish what changed."""
    from datetime import UTC, datetime, timedelta

    from dashboard.feeds.open311 import Client
    from dashboard.process.feeds import run_open311_pull

    start = datetime.fromisoformat(since) if since else datetime.now(UTC) - timedelta(days=1)
    client = Client(endpoint, jurisdiction, updated=updated)
    summary = run_open311_pull(
        to_settings(values), client, start, every, stop_on_signals(), mapping
    )
    click.echo(summary.line())


def _sessions(settings: Settings) -> Any:
    from sqlalchemy.orm import sessionmaker

    from dashboard.store.db import init_db, make_engine

    engine = make_engine(settings.resolved_database_url)
    init_db(engine, upgrade=settings.db_upgrade)
    return sessionmaker(engine, expire_on_commit=False)


def _accounts(settings: Settings) -> Any:
    from dashboard.store.accounts import Accounts

    return Accounts(_sessions(settings), settings.password_min_length)


def _administer(settings: Settings, action: str, do: Callable[[], Any], **detail: Any) -> Any:
    """Run an account operation; audit it (who ran the CLI), and AuthError as one line."""
    import getpass

    from dashboard.store import audit
    from dashboard.store.accounts import AuthError

    actor = f"cli:{getpass.getuser()}"
    try:
        done = do()
    except AuthError as error:
        with _sessions(settings).begin() as db:
            audit.record(db, actor, action, "refused", why=str(error), **detail)
        raise click.ClickException(str(error)) from None
    with _sessions(settings).begin() as db:
        audit.record(db, actor, action, "ok", **detail)
    return done


@main.group()
def tokens() -> None:
    """Display tokens: one per wall screen, read-only, revocable."""


@tokens.command("create")
@click.argument("name")
@settings_options
def tokens_create(name: str, **values: Any) -> None:
    """Create a token for the screen NAME and print its wall URL."""
    settings = to_settings(values)
    accounts = _accounts(settings)
    raw = _administer(settings, "tokens.create", lambda: accounts.create_token(name), screen=name)
    click.echo(f"http://{settings.host}:{settings.port}/wall/?token={raw}")


@tokens.command("list")
@settings_options
def tokens_list(**values: Any) -> None:
    """List display tokens (the secrets themselves are not stored)."""
    for token in _accounts(to_settings(values)).tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        click.echo(f"{token.name}\t{token.created_at:%Y-%m-%d %H:%M}\t{state}")


@tokens.command("revoke")
@click.argument("name")
@settings_options
def tokens_revoke(name: str, **values: Any) -> None:
    """Revoke the tokens of the screen NAME."""
    settings = to_settings(values)
    accounts = _accounts(settings)
    count = _administer(settings, "tokens.revoke", lambda: accounts.revoke(name), screen=name)
    click.echo(f"revoked {count} token(s) of {name}")


@main.command()
@settings_options
def walls(**values: Any) -> None:
    """List the configured screens and what each shows."""
    from dashboard.domain.walls import load_walls

    settings = to_settings(values)
    for screen in load_walls(settings.walls_file or None).screens.values():
        views = ", ".join(f"{s.view.value} {s.seconds:g}s" for s in screen.views)
        click.echo(f"{screen.id}\t{views}\t(commandhall tokens create {screen.id})")


ROLES = ["admin", "commander", "leader", "viewer"]  # dashboard.domain.access.ACCOUNT_ROLES


@main.group()
def users() -> None:
    """People who sign in: create, list, disable, enable, set-password, set-role."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password", default=None, help="default: generated, changed at first sign-in")
@settings_options
def users_create(username: str, role: str, password: str | None, **values: Any) -> None:
    """Create a user with a role."""
    from dashboard.domain.access import Role
    from dashboard.store.accounts import generated_password

    settings = to_settings(values)
    secret = password or generated_password()
    create = _accounts(settings).create_user
    _administer(
        settings, "users.create", lambda: create(username, secret, Role(role), not password),
        user=username, role=role,
    )  # fmt: skip
    click.echo(f"created {role} {username}")
    if not password:
        click.echo(f"password: {secret}   (to be changed at first sign-in)")


@users.command("list")
@settings_options
def users_list(**values: Any) -> None:
    """List users, their roles and state."""
    for user in _accounts(to_settings(values)).users():
        state = f"disabled {user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "enabled"
        change = "\tmust change password" if user.must_change_password else ""
        click.echo(f"{user.username}\t{user.role}\t{state}{change}")


def _user_command(name: str, action: str, help: str) -> None:
    @users.command(name, help=help)
    @click.argument("username")
    @settings_options
    def command(username: str, **values: Any) -> None:
        settings = to_settings(values)
        accounts = _accounts(settings)
        _administer(settings, f"users.{name}", lambda: getattr(accounts, action)(username),
                    user=username)  # fmt: skip
        click.echo(f"{name}d {username}; their sessions ended" if name != "enable" else
                   f"enabled {username}")  # fmt: skip


_user_command("disable", "disable", "Stop USERNAME signing in; their sessions end at once.")
_user_command("enable", "enable", "Let USERNAME sign in again.")


@users.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--temporary", is_flag=True, help="to be changed at the next sign-in")
@settings_options
def users_set_password(username: str, password: str, temporary: bool, **values: Any) -> None:
    """Give USERNAME a new password; their sessions end."""
    settings = to_settings(values)
    accounts = _accounts(settings)
    _administer(settings, "users.set-password",
                lambda: accounts.set_password(username, password, temporary),
                user=username)  # fmt: skip
    click.echo(f"password of {username} changed; their sessions ended")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@settings_options
def users_set_role(username: str, role: str, **values: Any) -> None:
    """Give USERNAME another role; their sessions end, so they sign in as it."""
    from dashboard.domain.access import Role

    settings = to_settings(values)
    accounts = _accounts(settings)
    _administer(settings, "users.set-role", lambda: accounts.set_role(username, Role(role)),
                user=username, role=role)  # fmt: skip
    click.echo(f"{username} is now {role}; their sessions ended")


@users.command("roles")
def users_roles() -> None:
    """Print the permission table: each permission and the roles that hold it."""
    from dashboard.domain.access import permission_table

    for permission, roles in permission_table():
        click.echo(f"{permission}\t{', '.join(roles)}")


@main.group()
def apikeys() -> None:
    """API keys for integrations: the read-only JSON API and Open311."""


@apikeys.command("create")
@click.argument("name")
@click.option("--scope", type=click.Choice(["read"]), default="read", show_default=True)
@settings_options
def apikeys_create(name: str, scope: str, **values: Any) -> None:
    """Create a key for the integration NAME; it is printed once, never stored."""
    from dashboard.store.apikeys import ApiKeys

    settings = to_settings(values)
    keys = ApiKeys(_sessions(settings))
    raw = _administer(settings, "apikeys.create", lambda: keys.create(name, scope),
                      key=name, scope=scope)  # fmt: skip
    click.echo(raw)
    click.echo("send it as: Authorization: Bearer <key>", err=True)


@apikeys.command("list")
@settings_options
def apikeys_list(**values: Any) -> None:
    """List API keys (the secrets themselves are not stored)."""
    from dashboard.store.apikeys import ApiKeys

    for key in ApiKeys(_sessions(to_settings(values))).keys():
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"last used {key.last_used_on}" if key.last_used_on else "never used"
        click.echo(f"{key.name}\t{key.scope}\t{key.created_at:%Y-%m-%d %H:%M}\t{state}\t{used}")


@apikeys.command("revoke")
@click.argument("name")
@settings_options
def apikeys_revoke(name: str, **values: Any) -> None:
    """Revoke the keys of the integration NAME, at once."""
    from dashboard.store.apikeys import ApiKeys

    settings = to_settings(values)
    keys = ApiKeys(_sessions(settings))
    count = _administer(settings, "apikeys.revoke", lambda: keys.revoke(name), key=name)
    click.echo(f"revoked {count} key(s) of {name}")


@main.group()
def audit() -> None:
    """The audit trail of sign-ins, actions, refusals and administration."""


@audit.command("archive")
@settings_options
def audit_archive(**values: Any) -> None:
    """Move audit rows older than --audit-retention-days into the data folder's archive.

    The active ingest worker does this once a day by itself; this runs it now. The
    archive is gzipped JSON lines.
    """
    from datetime import UTC, datetime

    from dashboard.store import audit as trail

    settings = to_settings(values)
    folder = settings.data_path / "audit-archive"
    try:
        moved = trail.archive(
            _sessions(settings), folder, settings.audit_retention_days, datetime.now(UTC)
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"archived {moved} audit row(s) to {folder}")


@main.group()
def deadletter() -> None:
    """Entries set aside because they broke the contract or the workflow."""


@deadletter.command("list")
@click.option("--count", default=50, show_default=True)
@settings_options
def deadletter_list(count: int, **values: Any) -> None:
    """Show dead letters, oldest first, with the reason."""
    from dashboard import runtime
    from streams.deadletter import dead_letters

    settings = to_settings(values)
    connection = runtime.connect(runtime.redis_url(settings))
    for letter in dead_letters(connection, settings.stream_key, count):
        click.echo(f"{letter.id}  {letter.failed_at}  {letter.reason}\n    {letter.event}")


@deadletter.command("replay")
@click.argument("ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="replay every dead letter")
@settings_options
def deadletter_replay(ids: tuple[str, ...], everything: bool, **values: Any) -> None:
    """Put dead letters back on the stream after the cause is fixed."""
    from dashboard import runtime
    from streams.deadletter import replay

    if not ids and not everything:
        raise click.UsageError("name dead-letter ids, or give --all")
    settings = to_settings(values)
    connection = runtime.connect(runtime.redis_url(settings))
    count = replay(connection, settings.stream_key, None if everything else ids)
    click.echo(f"replayed {count} dead letter(s) into {settings.stream_key}")


@main.group()
def calendar() -> None:
    """The city's working calendar (calendar.yaml in the city folder)."""


@calendar.command("check")
@click.option("--today", default=None, help="check as of this date (YYYY-MM-DD)")
@settings_options
def calendar_check(today: str | None, **values: Any) -> None:
    """Say what the calendar lacks for the next 60 days; exit 1 if anything."""
    from datetime import date, datetime

    from dashboard.domain.calendarview import check
    from dashboard.domain.city import city_rules

    rules = city_rules(to_settings(values))
    # The city's own date: on 31 December in Zhuhai it is still 30th in New York.
    local = datetime.now(rules.calendar.tz).date()
    ok, lines = check(rules.calendar.days, date.fromisoformat(today) if today else local)
    for line in lines:
        click.echo(line, err=not ok and line.startswith("missing"))
    sys.exit(0 if ok else 1)


@calendar.command("show")
@click.argument("year", type=int)
@settings_options
def calendar_show(year: int, **values: Any) -> None:
    """Print the working days and hours of YEAR, to compare with the official notice."""
    from dashboard.domain.calendarview import show
    from dashboard.domain.city import city_rules

    for line in show(city_rules(to_settings(values)).calendar, year):
        click.echo(line)


@calendar.command("reload")
@settings_options
def calendar_reload(**values: Any) -> None:
    """Load the calendar file now: recompute open deadlines it changes, push them."""
    from dashboard.process.calendar import reload

    for line in reload(to_settings(values)):
        click.echo(line)


def _pid() -> int:
    import os

    return os.getpid()


def run() -> None:
    """Entry point that turns expected start-up errors into one line."""
    try:
        main(standalone_mode=True)
    except (StartupError, ConfigError) as error:
        click.echo(f"commandhall: {error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
