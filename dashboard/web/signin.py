"""Signing in and out, the forced password change, and throttled failures.

Every attempt reserves its place before the password is checked
(`dashboard.web.throttle`), per account and per address, over a window of
`login_lockout_s`: beyond `login_failures` of one account (or
`login_address_failures` from one address) an attempt gets a 429 without its
password being looked at, even the right one, until the window ends. A right
password gives its place back, so only failures count. The current-password check
of `/password` takes places of the same account counter: a stolen session guesses
no faster than a stranger. Every attempt is audited with its time, user name,
address and result (`ok`, `failed`, `disabled`, `locked`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, request, session
from flask_login import logout_user

from dashboard.store import audit
from dashboard.store.accounts import AuthError
from dashboard.web import auth
from dashboard.web.context import App, Routes, add_routes
from dashboard.web.guard import page
from dashboard.web.throttle import Attempt, Throttle

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, else home.

    Browsers drop tabs and newlines and read a backslash as a slash, so
    `/\\t/evil.example` would leave the server: any such character refuses the target.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch < " " or ch in "\\\x7f" for ch in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _audit(app: App, actor: str | None, action: str, result: str, **detail: Any) -> None:
    with app.store.sessions.begin() as db:
        audit.record(db, actor, action, result, auth.address(), **detail)


def reserve(app: App, throttle: Throttle, username: str, by_address: bool) -> Attempt:
    """A place for one guess at this account's password (and from this address)."""
    settings = app.settings
    limits = [(f"account:{username.lower()}", settings.login_failures)]
    if by_address:
        limits.append((f"address:{auth.address()}", settings.login_address_failures))
    return throttle.reserve(limits)


def login(app: App, throttle: Throttle) -> Any:
    """The sign-in form, and signing in."""
    if request.method != "POST":
        return login_page("", 200)
    username = request.form.get("username", "").strip()
    attempt = reserve(app, throttle, username, by_address=True)
    if not attempt.allowed:
        return _locked(app, username, "sign_in", attempt, login_page)
    user, result = app.accounts.authenticate(username, request.form.get("password", ""))
    _audit(app, username or None, "sign_in", result)
    if user is None:
        return login_page("用户名或密码错误 / Wrong username or password", 401)
    attempt.give_back()
    session.clear()  # a fresh session: nothing planted before sign-in survives it
    auth.sign_in(app, app.logins.open(auth.address(), user_id=user.id))
    if user.must_change_password:
        return redirect("/password")
    return redirect(safe_next(request.args.get("next")))


def logout(app: App) -> Any:
    """Sign out: the server-side session ends, so a copied cookie is worthless."""
    who = auth.principal()
    if who is not None and who.key:
        app.logins.close(who.key)
        _audit(app, who.name, "sign_out", "ok")
    logout_user()
    session.clear()
    return redirect("/login")


def password(app: App, throttle: Throttle) -> Any:
    """A signed-in user changes their own password (forced at first sign-in)."""
    who = auth.principal()
    if who is None or who.user_id is None:
        return redirect("/login")
    forced = who.must_change_password
    if request.method != "POST":
        return password_page(forced, "", 200)
    new = request.form.get("new", "")
    if new != request.form.get("repeat", ""):
        return password_page(forced, "两次输入不一致 / They differ", 400)
    attempt = reserve(app, throttle, who.name, by_address=False)
    if not attempt.allowed:
        return _locked(
            app, who.name, "password.change", attempt, lambda m, s: password_page(forced, m, s)
        )
    if app.accounts.authenticate(who.name, request.form.get("current", ""))[0] is None:
        _audit(app, who.name, "password.change", "failed", why="the current password is wrong")
        return password_page(forced, "当前密码错误 / The current password is wrong", 400)
    attempt.give_back()
    try:
        app.accounts.change_own_password(who.user_id, request.form.get("current", ""), new)
    except AuthError as error:
        _audit(app, who.name, "password.change", "refused", why=str(error))
        return password_page(who.must_change_password, str(error), 400)
    app.logins.end_others(who.user_id, who.key)
    _audit(app, who.name, "password.change", "ok")
    return redirect("/")


def home(app: App) -> Any:
    """Links to the views."""
    links = (
        '<p><a href="/wall/">大屏 / Wall</a></p><p><a href="/desk/">值班指挥台 / Desk</a></p>'
        '<p><a href="/tablet/">城市运行概况 / Tablet</a></p>'
        '<p><a href="/admin/audit">审计日志 / Audit</a></p><p><a href="/logout">退出</a></p>'
    )
    return page("command hall", links, 200, raw=True)


def _locked(
    app: App, username: str, action: str, attempt: Attempt, render: Callable[[str, int], Any]
) -> Any:
    """429, audited as locked: the password was not looked at."""
    _audit(app, username or None, action, "locked", over=attempt.over)
    log.warning("Sign-in: %s from %s locked out (%s)", username, auth.address(), attempt.over)
    minutes = max(1, round(app.settings.login_lockout_s / 60))
    message = (
        f"登录失败次数过多，请 {minutes} 分钟后再试。/ "
        f"Too many failed sign-ins: try again in {minutes} minute(s)."
    )
    return render(message, 429)


ROUTES: Routes = (
    (("GET", "POST"), "/logout", logout),
    (("GET",), "/", home),
)


def register(app: App) -> Throttle:
    """The sign-in pages, with throttled guesses."""
    # Keys of their own per stream key: halls sharing a Redis never share counts.
    prefix = f"{app.settings.stream_key}:signin"
    throttle = Throttle(app.redis, prefix, app.settings.login_lockout_s)
    app.server.add_url_rule(
        "/login", "login", lambda: login(app, throttle), methods=["GET", "POST"]
    )
    app.server.add_url_rule(
        "/password", f"{__name__}.password", lambda: password(app, throttle),
        methods=["GET", "POST"],
    )  # fmt: skip
    add_routes(app, ROUTES)
    return throttle


def login_page(message: str, status: int) -> Response:
    """The sign-in form."""
    form = (
        f"<p class='error'>{escape(message)}</p><form method='post'>"
        "<input name='username' placeholder='用户名 / username' autofocus><br>"
        "<input name='password' type='password' placeholder='密码 / password'><br>"
        "<button type='submit'>登录 / Sign in</button></form>"
    )
    return page("登录 / Sign in", form, status, raw=True)


def password_page(forced: bool, message: str, status: int) -> Response:
    """The form to choose a new password."""
    why = "首次登录须修改密码 / Choose your own password first. " if forced else ""
    form = (
        f"<p>{escape(why)}</p><p class='error'>{escape(message)}</p><form method='post'>"
        "<input name='current' type='password' placeholder='当前密码 / current'><br>"
        "<input name='new' type='password' placeholder='新密码 / new'><br>"
        "<input name='repeat' type='password' placeholder='再次输入 / repeat'><br>"
        "<button type='submit'>修改 / Change</button></form>"
    )
    return page("修改密码 / Change password", form, status, raw=True)
