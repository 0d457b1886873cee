"""Issue 24 (round 3) on the console over real HTTP: logins that tell nothing and that nobody
can lock (point 3), `donvi=` in the Biểu 06 files (point 4), far `since=` (point 8), and the
idle timeout (point 10)."""

from __future__ import annotations

import asyncio
import io
import re
import statistics
import time
import uuid

import asyncpg
import httpx
import openpyxl
import pytest

from motcua.access import users
from tests.conftest import UNIT
from tests.console.conftest import PASSWORD, MakeUser

pytestmark = pytest.mark.engine

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')


async def _login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await http.get("/login")
    token = _CSRF.search(form.text)
    assert token, form.text
    return await http.post("/login", data={"csrf_token": token[1], "username": username,
                                           "password": password, "next": "/ho-so"})


def _shown(answer: httpx.Response) -> tuple[int, str]:
    """What a person sees of a failed login: the status and the page's error text."""
    found = re.search(r"<p[^>]*class=\"[^\"]*error[^\"]*\"[^>]*>(.*?)</p>", answer.text, re.S)
    return answer.status_code, found[1].strip() if found else answer.text


# --- point 3: every failed login looks the same; nobody can lock anyone out -----------------

async def test_failed_logins_look_the_same_for_every_kind_of_account(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    """A wrong password for an existing user, an unknown user, and a disabled user with its
    right password: same status, same page text, similar time (each verifies one argon2
    hash); only the audit tells them apart."""
    existing = await make_user("officer", unit=UNIT)
    disabled = await make_user("officer", unit=UNIT)
    assert await users.disable_user(pool, disabled)
    unknown = f"no-such-{uuid.uuid4().hex[:6]}"
    tries = {"wrong password": (existing, "not-the-password"),
             "unknown user": (unknown, PASSWORD), "disabled": (disabled, PASSWORD)}
    seen: dict[str, set[tuple[int, str]]] = {k: set() for k in tries}
    timings: dict[str, list[float]] = {k: [] for k in tries}
    for _ in range(2):  # under FREE_FAILURES: nothing is throttled yet
        for kind, (name, password) in tries.items():
            async with httpx.AsyncClient(base_url=console_url) as http:
                started = time.perf_counter()
                answer = await _login(http, name, password)
                timings[kind].append(time.perf_counter() - started)
                seen[kind].add(_shown(answer))
    answers = set().union(*seen.values())
    assert len(answers) == 1, seen
    status, text = answers.pop()
    assert status == 401 and text == "Tên đăng nhập hoặc mật khẩu không đúng."
    medians = [statistics.median(t) for t in timings.values()]
    assert max(medians) < 3 * min(medians) + 0.2, timings
    outcomes = {r["username"]: r["outcome"] for r in await pool.fetch(
        "SELECT username, outcome FROM console_logins WHERE username = ANY($1::text[])",
        [existing, unknown, disabled])}
    assert outcomes == {existing: "bad_password", unknown: "unknown_user",
                        disabled: "disabled"}


async def test_a_stranger_cannot_lock_the_user_out(console_url: str, make_user: MakeUser,
                                                   pool: asyncpg.Pool) -> None:
    """A stranger hammering an account from their client is slowed down (429, Retry-After,
    growing), exactly as for a name that does not exist; meanwhile the real user signs in
    with the right password from their own client at once."""
    leader = await make_user("leader", unit=UNIT)
    unknown = f"no-such-{uuid.uuid4().hex[:6]}"
    stranger, user = "192.0.2.66", "192.0.2.10"
    for name in (leader, unknown):
        for _ in range(users.FREE_FAILURES + 3):
            outcome, secret, _ = await users.login(pool, name, "guess-guess-1",
                                                   remote_addr=stranger)
            assert outcome is not users.Outcome.SUCCESS and secret is None
            await pool.execute(  # a patient stranger: each wait passes, each guess counts
                "UPDATE login_throttle SET next_try_at = now() WHERE username = $1", name)
    rows = {r["username"]: r["failures"] for r in await pool.fetch(
        "SELECT username, failures FROM login_throttle WHERE client = $1", stranger)}
    assert rows == {leader: users.FREE_FAILURES + 3, unknown: users.FREE_FAILURES + 3}
    # One more failure each, and now the stranger must wait, the same for both names, and
    # longer than before; even the right password is not tried from that client meanwhile.
    for name in (leader, unknown):
        assert (await users.login(pool, name, "guess-guess-2", remote_addr=stranger)
                ).outcome is not users.Outcome.SUCCESS
    expected = users.delay(users.FREE_FAILURES + 4).total_seconds()
    assert expected > users.delay(users.FREE_FAILURES + 3).total_seconds()
    for name in (leader, unknown):
        held = await users.login(pool, name, PASSWORD, remote_addr=stranger)
        assert held.outcome is users.Outcome.THROTTLED and held.secret is None
        assert held.retry_after is not None and 0 < held.retry_after <= expected
    # The real user, from their own client, is not slowed and gets in.
    ok = await users.login(pool, leader, PASSWORD, remote_addr=user)
    assert ok.outcome is users.Outcome.SUCCESS and ok.secret is not None
    # Over HTTP: the stranger's page says to wait (429, Retry-After), whoever the name is.
    async with httpx.AsyncClient(base_url=console_url) as http:
        name = f"hammered-{uuid.uuid4().hex[:6]}"
        answers = [await _login(http, name, "wrong-password")
                   for _ in range(users.FREE_FAILURES)]
        assert [a.status_code for a in answers] == [401] * users.FREE_FAILURES
        for _ in range(5):  # the first wait is 1 s and doubles: a busy machine may outlast it
            answers.append(await _login(http, name, "wrong-password"))
            if answers[-1].status_code == 429:
                break
        assert answers[-1].status_code == 429, [a.status_code for a in answers]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert "thử lại sau" in answers[-1].text and "không bị khóa" in answers[-1].text


async def test_password_reset_forgets_the_failures(pool: asyncpg.Pool,
                                                   make_user: MakeUser) -> None:
    """`motcua user reset-password` lets the user's own client in again at once."""
    clerk = await make_user("clerk", unit=UNIT)
    for _ in range(users.FREE_FAILURES):
        await users.login(pool, clerk, "wrong-password-1", remote_addr="192.0.2.20")
    assert (await users.login(pool, clerk, PASSWORD, remote_addr="192.0.2.20")).outcome \
        is users.Outcome.THROTTLED
    assert await users.reset_password(pool, clerk, "a-new-password-2")
    assert (await users.login(pool, clerk, "a-new-password-2", remote_addr="192.0.2.20")
            ).outcome is users.Outcome.SUCCESS


def test_clients_are_keyed_by_address_and_ipv6_by_its_64() -> None:
    """Pure: an IPv6 client is throttled as its /64, an IPv4-mapped one as its IPv4."""
    assert users.client_key("2001:db8:1:2:aaaa::1") == users.client_key("2001:db8:1:2::ffff")
    assert users.client_key("2001:db8:1:2::1") != users.client_key("2001:db8:1:3::1")
    assert users.client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert users.client_key(None) == "unknown"
    assert [users.delay(n).total_seconds() for n in range(1, 7)] == [0, 0, 1, 2, 4, 8]
    assert users.delay(100) == users.MAX_DELAY


# --- point 4: `donvi=` must be a unit; the Biểu 06 workbook holds no formula ----------------

async def test_bieu06_refuses_unknown_units_and_holds_no_formula(
        console_url: str, make_user: MakeUser) -> None:
    """`donvi=` that is not a unit of the catalog is a 422 page for the board and both files;
    a real unit gives a workbook without a formula cell."""
    leader = await make_user("leader", "ops", unit=None)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await _login(http, leader, PASSWORD)).status_code == 303
        for path in ("/bao-cao", "/bao-cao/bieu-06.csv", "/bao-cao/bieu-06.xlsx"):
            answer = await http.get(path, params={"donvi": '=HYPERLINK("http://x","y")'})
            assert answer.status_code == 422, (path, answer.text[:200])
            assert "text/html" in answer.headers["content-type"]
        book = await http.get("/bao-cao/bieu-06.xlsx", params={"donvi": UNIT})
        assert book.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(book.content)).worksheets[0]
        assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


# --- point 8: a far `since=` is a 4xx, not a 500 --------------------------------------------

async def test_far_since_is_422(console_url: str, make_user: MakeUser) -> None:
    """`/cap-nhat?since=` with an offset that takes it past year 1 or 9999 is 422."""
    clerk = await make_user("clerk", unit=UNIT)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await _login(http, clerk, PASSWORD)).status_code == 303
        for since in ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                      "1999-12-31T00:00:00+00:00"):
            answer = await http.get("/cap-nhat", params={"since": since})
            assert answer.status_code == 422, (since, answer.text[:200])
        assert (await http.get("/cap-nhat")).status_code == 200


# --- point 10: an idle session ends -----------------------------------------------------------

async def test_idle_session_ends_and_polling_does_not_keep_it(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    """A session unused for longer than MOTCUA_CONSOLE_IDLE_MINUTES (30 by default) sends the
    user to /login; the live page's poll (/cap-nhat) does not count as use."""
    clerk = await make_user("clerk", unit=UNIT)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await _login(http, clerk, PASSWORD)).status_code == 303
        await pool.execute("UPDATE console_sessions SET last_seen_at = now() - interval "
                           "'20 minutes' WHERE username = $1", clerk)
        before = await pool.fetchval(
            "SELECT last_seen_at FROM console_sessions WHERE username = $1", clerk)
        assert (await http.get("/cap-nhat")).status_code == 200
        await asyncio.sleep(0.01)
        assert await pool.fetchval("SELECT last_seen_at FROM console_sessions "
                                   "WHERE username = $1", clerk) == before
        assert (await http.get("/ho-so")).status_code == 200  # 20 minutes idle: still in
        await pool.execute("UPDATE console_sessions SET last_seen_at = now() - interval "
                           "'31 minutes' WHERE username = $1", clerk)
        answer = await http.get("/ho-so")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
