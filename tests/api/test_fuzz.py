"""Schemathesis over the OpenAPI document, against the API served by uvicorn on the real stack:
no 5xx, and every response conforms to the document (status, content type, schema, headers).
The stateful phase follows the document's links (a receipt's `code` into every dossier
operation), so sequences such as receive -> assign -> extend -> refuse are fuzzed too.

Bounded: at most `MAX_EXAMPLES` cases per operation, a fixed seed, well under two minutes.
The fuzzer runs as a subprocess (its own event loop), so this process's loop keeps serving the
API and running the worker meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from temporalio.client import Client

from motcua.app import create_app
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.files.devkeys import make_signer
from motcua.files.settings import FileSettings
from tests.api.conftest import receive
from tests.conftest import settings_for

pytestmark = pytest.mark.engine

# Override to explore further, e.g. MOTCUA_FUZZ_SEED=$RANDOM MOTCUA_FUZZ_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("MOTCUA_FUZZ_EXAMPLES", "50"))
SEED = int(os.environ.get("MOTCUA_FUZZ_SEED", "20261126"))
DOSSIERS = 12
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance,negative_data_rejection")


@pytest.fixture
async def served(client: Client, pool: asyncpg.Pool, worker: None, postgres: EmbeddedPostgres,
                 temporal_server: TemporalDevServer, tmp_path: Path) -> AsyncIterator[str]:
    """The API on a real socket (uvicorn, in this event loop); yields its base URL. Files
    and result signing are configured, as on the dev stack (else their routes answer 503)."""
    app = create_app(settings_for(postgres, temporal_server), client=client, pool=pool)
    bundle, passphrase, _ca = make_signer()
    (tmp_path / "signer.p12").write_bytes(bundle)
    app.state.file_settings = FileSettings(
        files_master_key=base64.b64encode(os.urandom(32)).decode(),  # type: ignore[arg-type]
        signing_pkcs12=tmp_path / "signer.p12",
        signing_passphrase=passphrase.decode())  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def config(path: Path, codes: list[str]) -> Path:
    """A schemathesis.toml that mostly uses real dossier codes, so actions reach the engine."""
    values = ", ".join(f'"{c}"' for c in codes)
    path.write_text(f"""[dictionaries.codes]
values = [{values}]

[parameters]
"path.code" = {{ dictionary = "codes", probability = 0.8 }}
""")
    return path


async def test_fuzzer_finds_no_server_error_or_schema_violation(
        served: str, http: httpx.AsyncClient, dev_token: str, tmp_path: Path) -> None:
    """Every operation, fuzzed with valid and invalid input, answers as documented."""
    codes = [(await receive(http, dev_token))["code"] for _ in range(DOSSIERS)]
    schemathesis = Path(sys.executable).parent / "schemathesis"
    process = await asyncio.create_subprocess_exec(
        str(schemathesis), "--config-file", str(config(tmp_path / "schemathesis.toml", codes)),
        "run", f"{served}/openapi.json",
        "--header", f"Authorization: Bearer {dev_token}",
        "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        "--phases", "examples,coverage,fuzzing,stateful", "--workers", "1", "--no-shrink",
        "--request-timeout", "20", "--suppress-health-check", "all",
        "--report", "junit", "--report-dir", str(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    text = output.decode(errors="replace")
    summary = "\n".join(text.splitlines()[-40:])
    (tmp_path / "output.txt").write_text(text)
    print(summary)  # the case count shows with -s; the junit report is in tmp_path
    assert process.returncode == 0, summary
    assert re.search(r"\d+ passed", text), summary
