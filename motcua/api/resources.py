"""The app's `Resources` (`motcua.services.resources`) as typed request dependencies:
`ResourcesDep`, and `ClientDep` / `PoolDep`, which answer 503 while Temporal or PostgreSQL has
not been reached yet."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from temporalio.client import Client

from motcua.services.resources import Resources


# The dependencies are `async def` although they never await: FastAPI runs a plain `def`
# dependency in a worker thread, three thread hand-offs per request (about 8 % of the API's
# CPU in the lifecycle profile of the 30 Nov full run, summarised in its JSON).
async def get_resources(request: Request) -> Resources:
    """The app's resources (set in its lifespan)."""
    resources: Resources = request.app.state.resources
    return resources


async def get_client(resources: Annotated[Resources, Depends(get_resources)]) -> Client:
    return resources.temporal()


async def get_pool(resources: Annotated[Resources, Depends(get_resources)]) -> asyncpg.Pool:
    return resources.db()


ResourcesDep = Annotated[Resources, Depends(get_resources)]
ClientDep = Annotated[Client, Depends(get_client)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
