"""The one-stop console: server-rendered pages (Jinja2) for clerks, officers, leaders and
operations, the citizen's lookup and the satisfaction kiosk, all in Vietnamese, served by the
API process (`install(app)`). Its writes go through the API's own handlers
(`motcua.console.acting`), so roles, unit scope, idempotency and audit are the API's.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from motcua.console import (
    board,
    citizen,
    dossier,
    files,
    intake,
    login,
    portal,
    queue,
    register,
)
from motcua.console.web import ConsoleError, NeedLogin, on_console_error, on_need_login


def install(app: FastAPI) -> None:
    """Mount the console's pages at `/` and its assets at `/static/console`."""
    app.add_exception_handler(ConsoleError, on_console_error)
    app.add_exception_handler(NeedLogin, on_need_login)
    # `files` first: `/ho-so/{code}/{action}` (dossier) would otherwise take `/ho-so/{code}/tep`.
    for module in (files, login, queue, intake, dossier, board, citizen, portal, register):
        app.include_router(module.router)
    app.mount("/static/console", StaticFiles(packages=[("motcua.console", "static")]),
              name="console-static")
