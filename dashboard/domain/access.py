"""Who may do what: the one permission table of the product.

Every check on the server (routes, callbacks, the CLI's account commands) asks
`allowed(principal_role, permission)`; the README shows this table. Walls sign in with
display tokens and machines with API keys: both are principals with a fixed role here.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What kind of principal is asking."""

    ADMIN = "admin"  # users, tokens, keys, audit
    COMMANDER = "commander"  # duty commander: urge, flag, emergency switch, acknowledge
    LEADER = "leader"  # supervise, view everything
    VIEWER = "viewer"  # read-only desk and tablet
    DISPLAY = "display"  # a wall's display token: its snapshot and the emergency state
    API = "api"  # an integration's API key: the read-only JSON API and Open311


class Permission(StrEnum):
    """One thing a principal may do."""

    VIEW_WALL = "view_wall"
    VIEW_DESK = "view_desk"
    VIEW_TABLET = "view_tablet"
    READ_API = "read_api"  # case histories, KPIs, rankings, reports, Open311
    URGE = "urge"  # 催办
    FLAG = "flag"  # mark a case as an emergency case
    ACKNOWLEDGE = "acknowledge"  # acknowledge an alert on the desk
    SWITCH_EMERGENCY = "switch_emergency"
    SUPERVISE = "supervise"  # 督办
    MANAGE_ACCOUNTS = "manage_accounts"  # users, display tokens, API keys
    READ_AUDIT = "read_audit"


_READ = frozenset(
    {Permission.VIEW_WALL, Permission.VIEW_DESK, Permission.VIEW_TABLET, Permission.READ_API}
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _READ | {Permission.MANAGE_ACCOUNTS, Permission.READ_AUDIT},
    Role.COMMANDER: _READ
    | {
        Permission.URGE,
        Permission.FLAG,
        Permission.ACKNOWLEDGE,
        Permission.SWITCH_EMERGENCY,
    },
    Role.LEADER: _READ | {Permission.SUPERVISE},
    Role.VIEWER: _READ,
    Role.DISPLAY: frozenset({Permission.VIEW_WALL}),
    Role.API: frozenset({Permission.READ_API}),
}

# Roles a person's account may hold (display tokens and API keys are not accounts).
ACCOUNT_ROLES = (Role.ADMIN, Role.COMMANDER, Role.LEADER, Role.VIEWER)


def allowed(role: str | None, permission: Permission) -> bool:
    """Whether a principal of this role may do this; an unknown role may do nothing."""
    try:
        return permission in PERMISSIONS[Role(role)] if role else False
    except ValueError:
        return False


def permission_table() -> list[tuple[str, list[str]]]:
    """(permission, roles that hold it) rows, for the README and `users roles`."""
    return [
        (permission.value, [role.value for role in Role if permission in PERMISSIONS[role]])
        for permission in Permission
    ]
