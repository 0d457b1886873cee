"""The action table (`motcua.actions`) is wired end to end: each row's workflow update takes
its command, each HTTP row has one body, one route and its roles, and nothing is left out."""

from __future__ import annotations

import inspect
import typing

from fastapi.routing import APIRoute

from domain import commands as cmd
from motcua.access.permissions import PERMISSIONS
from motcua.actions import ACTIONS, HTTP_ACTIONS
from motcua.api.routes.actions import router
from motcua.services.requests import ActionBody, body_for
from workflows import DossierWorkflow


def _command_updates() -> dict[str, type[cmd.Command]]:
    """Every `DossierWorkflow` method that takes a command, with the command type."""
    found: dict[str, type[cmd.Command]] = {}
    for name, fn in inspect.getmembers(DossierWorkflow, inspect.isfunction):
        hint = typing.get_type_hints(fn).get("command")
        if not name.startswith("_") and isinstance(hint, type) and issubclass(hint, cmd.Command):
            found[name] = hint
    return found


def test_every_row_names_a_workflow_update_taking_its_command() -> None:
    updates = _command_updates()
    for action in ACTIONS.values():
        assert updates.get(action.update.__name__) is action.command, action.name
    assert {a.update.__name__ for a in ACTIONS.values()} == set(updates), \
        "a workflow update that takes a command has no row in motcua.actions"


def test_every_http_row_has_one_body_one_route_and_its_roles() -> None:
    routes = {r.path: r for r in router.routes if isinstance(r, APIRoute)}
    for action in HTTP_ACTIONS:
        body = body_for(action.command)
        route = routes[f"/v1/dossiers/{{code}}/{action.name}"]
        assert route.methods == {"POST"} and route.operation_id == action.operation_id
        assert inspect.signature(route.endpoint).parameters["body"].annotation is body
        assert {r.value for r in PERMISSIONS[action.name]} == action.roles
    assert len(routes) == len(HTTP_ACTIONS)
    assert {b.command_type for b in ActionBody.__subclasses__()} == {
        a.command for a in HTTP_ACTIONS}, "a request body without an action, or the reverse"
