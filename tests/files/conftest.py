"""Files on the session's API: a fresh master key and a small size limit, set on the app for
one test and restored afterwards (the API tests of files use it as `files_app`)."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterator

from fastapi import FastAPI

from motcua.devstack.procs import free_port
from motcua.files.settings import FileSettings

MAX_BYTES = 64 * 1024


@contextlib.contextmanager
def files_configured(app: FastAPI, **overrides: object) -> Iterator[FastAPI]:
    """`app` with its file service made anew under a test master key."""
    before = app.state.file_settings
    values: dict[str, object] = {
        "files_master_key": base64.b64encode(os.urandom(32)).decode(),
        "file_max_bytes": MAX_BYTES, **overrides}
    app.state.file_settings = FileSettings(**values)  # type: ignore[arg-type]
    _forget_service(app)
    try:
        yield app
    finally:
        app.state.file_settings = before
        _forget_service(app)


def _forget_service(app: FastAPI) -> None:
    for made in ("files_service", "result_signer"):
        with contextlib.suppress(AttributeError, KeyError):
            delattr(app.state, made)


BUCKET = "motcua-files"


@contextlib.contextmanager
def moto_s3() -> Iterator[FileSettings]:
    """An S3-compatible server here (moto in server mode, a free loopback port) with one
    bucket; yields the file settings that point at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket=BUCKET)
        # moto keeps its buckets in the process, across servers: an earlier test's bucket
        # policy (tests/files/test_s3_store.py puts deploy/s3's, which denies this test user)
        # would refuse the next test's uploads in the same session.
        s3.delete_bucket_policy(Bucket=BUCKET)
        yield FileSettings(files_s3_bucket=BUCKET, files_s3_endpoint=endpoint,
                           files_s3_access_key="test",  # type: ignore[arg-type]
                           files_s3_secret_key="test")  # type: ignore[arg-type]
    finally:
        server.stop()
