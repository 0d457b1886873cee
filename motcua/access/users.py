"""People who use the console: users (argon2id password hash, roles, unit), their sessions
and the login audit (table `console_logins`: every attempt and every logout).

A user signs in with a password. Every failed login answers the same way whether the user
exists, is disabled or typed a wrong password (`Outcome` is for the audit only), and costs the
same argon2 work. Guessing is slowed per account *and* client (`login_throttle`): after
`FREE_FAILURES` failures from one client, that client waits `delay(n)` (doubling, capped at
`MAX_DELAY`) before its next try at that name, while the right password still opens the
account at once from any other client: a stranger cannot lock a user out (issue 24, point 3;
docs/decisions.md, "Logins"). A session cookie holds a random secret of which only the sha256
is stored, and each session has its own CSRF token; a session ends after `SESSION_LIFETIME`, or
sooner when idle for the configured time (`MOTCUA_CONSOLE_IDLE_MINUTES`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import NamedTuple

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from asyncpg.pool import PoolConnectionProxy

from motcua.access.tokens import NAME_PATTERN, STAFF_ROLES, Principal, Role

# Failures one client may make at one name before it has to wait (typos are free), the first
# wait, its cap, and how long a client's failures are remembered after its last one.
FREE_FAILURES = 3
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)
SESSION_LIFETIME = timedelta(hours=10)  # one office day and some; then sign in again
IDLE_TIMEOUT = timedelta(minutes=30)  # the default of MOTCUA_CONSOLE_IDLE_MINUTES
MIN_PASSWORD = 10
DEV_USER = "dev"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user is unknown, so that "no such user" takes as long as a
# wrong password and the answer time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("motcua-no-such-user")

Conn = asyncpg.Connection | asyncpg.Pool | PoolConnectionProxy


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


class Outcome(StrEnum):
    """How a login attempt ended (recorded in `console_logins`)."""

    SUCCESS = "success"
    BAD_PASSWORD = "bad_password"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"
    LOCKED = "locked"  # the old hard lock (before issue 24); kept for the audit rows it wrote
    THROTTLED = "throttled"  # this client must wait before trying this name again
    LOGOUT = "logout"


class LoginResult(NamedTuple):
    """How a login ended: the new session's cookie secret on success; for THROTTLED, the
    seconds this client must wait."""

    outcome: Outcome
    secret: str | None
    retry_after: int | None = None


@dataclass(frozen=True)
class User:
    """A console user (never its password hash)."""

    username: str
    full_name: str
    roles: frozenset[Role]
    unit_code: str | None

    @property
    def principal(self) -> Principal:
        """The user as the API's authorisation sees a caller: name = actor in events."""
        return Principal(name=self.username, roles=self.roles, unit_code=self.unit_code)

    @property
    def display(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its user and the CSRF token its forms must carry."""

    user: User
    csrf_token: str


def _user(row: asyncpg.Record) -> User:
    return User(username=row["username"], full_name=row["full_name"],
                roles=frozenset(Role(r) for r in row["roles"]), unit_code=row["unit_code"])


def parse_roles(values: list[str]) -> list[str]:
    """Role names, validated and sorted; UserError naming the allowed ones otherwise."""
    try:
        roles = sorted({Role(v.strip()).value for v in values if v.strip()})
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise UserError(f"roles must be among {allowed}") from None
    if not roles:
        raise UserError("a user needs at least one role")
    if Role.KIOSK in roles and len(roles) > 1:
        raise UserError("a kiosk user may hold no other role")
    return roles


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise UserError("the password must have at most 256 characters")


def new_password() -> str:
    """A random password (about 100 bits) for `create`/`reset-password` without one."""
    return secrets.token_urlsafe(16)


async def create_user(conn: Conn, *, username: str, password: str, roles: list[str],
                      unit_code: str | None, full_name: str = "", counter: str | None = None,
                      replace: bool = False) -> None:
    """Create a user. A kiosk must belong to a unit. `counter` (quầy): the counter a clerk
    serves at, or whose screen a kiosk is; the kiosk offers the dossier just returned at its
    counter (`motcua.services.ratings`). `replace` overwrites an existing user (used by
    `motcua dev` for its `dev` user)."""
    if not NAME_PATTERN.match(username):
        raise UserError("username must be 1-64 letters, digits, '.', '_', '@' or '-'")
    parsed = parse_roles(roles)
    if Role.KIOSK in parsed and unit_code is None:
        raise UserError("a kiosk user must belong to a unit (--unit)")
    counter = (counter or "").strip() or None
    if counter is not None and (len(counter) > 32 or unit_code is None):
        raise UserError("a counter is at most 32 characters and needs a unit (--unit)")
    check_password(password)
    conflict = ("DO UPDATE SET full_name = excluded.full_name, counter = excluded.counter, "
                "password_hash = excluded.password_hash, roles = excluded.roles, "
                "unit_code = excluded.unit_code, "
                "disabled_at = NULL, password_changed_at = now()") if replace else "DO NOTHING"
    row = await conn.fetchrow(
        "INSERT INTO console_users (username, full_name, password_hash, roles, unit_code, "
        f"counter) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) {conflict} "
        "RETURNING username",
        username, full_name.strip(), _hasher.hash(password), parsed, unit_code, counter)
    if row is None:
        raise UserError(f"a user named {username!r} already exists")


async def disable_user(conn: Conn, username: str) -> bool:
    """Disable `username` and end its sessions; False when there is no such active user."""
    status: str = await conn.execute(
        "UPDATE console_users SET disabled_at = now() "
        "WHERE username = $1 AND disabled_at IS NULL", username)
    await conn.execute("DELETE FROM console_sessions WHERE username = $1", username)
    return status.endswith(" 1")


async def reset_password(conn: Conn, username: str, password: str) -> bool:
    """Set a new password, forget the failed logins at this name and end its sessions."""
    check_password(password)
    status: str = await conn.execute(
        "UPDATE console_users SET password_hash = $2, password_changed_at = now() "
        "WHERE username = $1", username, _hasher.hash(password))
    await conn.execute("DELETE FROM console_sessions WHERE username = $1", username)
    await conn.execute("DELETE FROM login_throttle WHERE username = $1", username)
    return status.endswith(" 1")


async def list_users(conn: Conn, unit_code: str | None = None) -> list[User]:
    """Active users (of `unit_code` when given, which includes users of every unit: none)."""
    rows = await conn.fetch(
        "SELECT username, full_name, roles, unit_code FROM console_users "
        "WHERE disabled_at IS NULL AND ($1::text IS NULL OR unit_code = $1) "
        "ORDER BY username", unit_code)
    return [_user(r) for r in rows]


async def officers_of(conn: Conn, unit_code: str) -> list[User]:
    """The active officers of `unit_code`: whom a leader may assign a dossier to."""
    return [u for u in await list_users(conn, unit_code) if Role.OFFICER in u.roles]


# The roles that may hold a dossier: the officer who processes it, or a leader of its unit.
HOLDER_ROLES = frozenset({Role.OFFICER.value, Role.LEADER.value})


async def may_hold(conn: Conn, username: str, unit_code: str) -> bool:
    """Whether `username` is an active console user allowed to hold a dossier of `unit_code`:
    the officer or leader role, in that unit or in none (a user of every unit). API tokens
    are not holders (issue 24 point 5; docs/decisions.md, "Who holds a dossier")."""
    found: bool | None = await conn.fetchval(
        "SELECT true FROM console_users WHERE username = $1 AND disabled_at IS NULL "
        "AND (unit_code IS NULL OR unit_code = $2) AND roles && $3::text[]",
        username, unit_code, sorted(HOLDER_ROLES))
    return bool(found)


async def may_receive_step(conn: Conn, username: str, unit_code: str,
                           roles: frozenset[str]) -> bool:
    """Whether `username` is an active console user of `unit_code` (or of every unit) with one
    of `roles`: who may be handed a step by name (`motcua.services.holders`)."""
    found: bool | None = await conn.fetchval(
        "SELECT true FROM console_users WHERE username = $1 AND disabled_at IS NULL "
        "AND (unit_code IS NULL OR unit_code = $2) AND roles && $3::text[]",
        username, unit_code, sorted(roles))
    return bool(found)


async def _record(conn: Conn, username: str, outcome: Outcome, remote_addr: str | None,
                  user_agent: str | None) -> None:
    await conn.execute(
        "INSERT INTO console_logins (username, outcome, remote_addr, user_agent) "
        "VALUES ($1, $2, $3, $4)", username[:64], outcome.value, remote_addr,
        (user_agent or "")[:300] or None)


def client_key(remote_addr: str | None) -> str:
    """The client a login is throttled as: its address, or its /64 for IPv6 (one subscriber
    holds a whole /64, so single addresses would give a guesser billions of fresh starts)."""
    if not remote_addr:
        return "unknown"
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def delay(failures: int) -> timedelta:
    """The wait before the next try after `failures` failures in a row from one client at one
    name: none below `FREE_FAILURES`; from there 1 s, 2 s, 4 s, ... up to `MAX_DELAY`."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    wait: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(wait, MAX_DELAY)


async def login(pool: asyncpg.Pool, username: str, password: str, *,
                remote_addr: str | None = None, user_agent: str | None = None) -> LoginResult:
    """Check a password. On success: (SUCCESS, the new session's cookie secret); otherwise
    the outcome for the audit, which callers must not show (every failure looks the same).
    Every attempt is recorded. A client that failed too often at this name gets THROTTLED with
    the seconds to wait, whatever the name (existing or not) and the password."""
    client = client_key(remote_addr)
    async with pool.acquire() as conn, conn.transaction():
        # One row per (name as typed, client); locked so that parallel tries queue up.
        await conn.execute(
            "INSERT INTO login_throttle (username, client) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING", username, client)
        throttle = await conn.fetchrow(
            "SELECT CASE WHEN last_failure_at < now() - $3::interval THEN 0 ELSE failures END "
            "AS failures, ceil(extract(epoch FROM next_try_at - now()))::int AS wait "
            "FROM login_throttle WHERE username = $1 AND client = $2 FOR UPDATE",
            username, client, FORGET_AFTER)
        assert throttle is not None
        if throttle["wait"] is not None and throttle["wait"] > 0:
            await _record(conn, username, Outcome.THROTTLED, remote_addr, user_agent)
            return LoginResult(Outcome.THROTTLED, None, int(throttle["wait"]))
        row = await conn.fetchrow(
            "SELECT username, password_hash, disabled_at FROM console_users "
            "WHERE username = $1", username)
        if row is None:
            _verify(_DUMMY_HASH, password)  # the answer time does not tell who exists
            outcome = Outcome.UNKNOWN_USER
        elif not _verify(row["password_hash"], password):
            outcome = Outcome.BAD_PASSWORD
        elif row["disabled_at"] is not None:
            outcome = Outcome.DISABLED
        else:
            outcome = Outcome.SUCCESS
        secret = None
        if outcome is Outcome.SUCCESS and row is not None:
            secret = secrets.token_urlsafe(32)
            await conn.execute("DELETE FROM login_throttle WHERE username = $1 AND client = $2",
                               username, client)
            if _hasher.check_needs_rehash(row["password_hash"]):
                await conn.execute("UPDATE console_users SET password_hash = $2 "
                                   "WHERE username = $1", username, _hasher.hash(password))
            # Expired sessions and forgotten failures are swept here, when a session is made.
            await conn.execute("DELETE FROM console_sessions WHERE expires_at < now()")
            await conn.execute("DELETE FROM login_throttle WHERE last_failure_at < now() - "
                               "$1::interval", FORGET_AFTER)
            await conn.execute(
                "INSERT INTO console_sessions (id_hash, username, csrf_token, expires_at) "
                "VALUES ($1, $2, $3, now() + $4::interval)",
                _digest(secret), username, secrets.token_urlsafe(32), SESSION_LIFETIME)
        else:
            failures = throttle["failures"] + 1
            await conn.execute(
                "UPDATE login_throttle SET failures = $3, last_failure_at = now(), "
                "next_try_at = now() + $4::interval WHERE username = $1 AND client = $2",
                username, client, failures, delay(failures))
        await _record(conn, username, outcome, remote_addr, user_agent)
    return LoginResult(outcome, secret)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


async def session(pool: asyncpg.Pool, secret: str | None, *,
                  idle: timedelta = IDLE_TIMEOUT, touch: bool = True) -> Session | None:
    """The live session for a cookie secret (its user active, used within `idle`), or None.
    `touch` counts this request as activity (a page's background poll does not)."""
    if not secret or len(secret) > 128:
        return None
    row = await pool.fetchrow(
        "UPDATE console_sessions s SET last_seen_at = CASE WHEN $3 THEN now() "
        "ELSE s.last_seen_at END FROM console_users u "
        "WHERE s.id_hash = $1 AND s.expires_at > now() "
        "AND s.last_seen_at > now() - $2::interval AND u.username = s.username "
        "AND u.disabled_at IS NULL "
        "RETURNING u.username, u.full_name, u.roles, u.unit_code, s.csrf_token",
        _digest(secret), idle, touch)
    if row is None:
        return None
    return Session(user=_user(row), csrf_token=row["csrf_token"])


async def logout(pool: asyncpg.Pool, secret: str, username: str, *,
                 remote_addr: str | None = None, user_agent: str | None = None) -> None:
    """End the session and record the logout."""
    await pool.execute("DELETE FROM console_sessions WHERE id_hash = $1", _digest(secret))
    await _record(pool, username, Outcome.LOGOUT, remote_addr, user_agent)


async def create_dev_user(dsn: str, password: str | None = None) -> str:
    """The user `dev` with every staff role and no unit (for `motcua dev`), with `password`
    (a new random one by default), which is returned. The database must be migrated."""
    password = password or new_password()
    conn = await asyncpg.connect(dsn)
    try:
        await create_user(conn, username=DEV_USER, password=password,
                          roles=[r.value for r in STAFF_ROLES], unit_code=None,
                          full_name="Người dùng phát triển", replace=True)
    finally:
        await conn.close()
    return password
