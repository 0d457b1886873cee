"""Where the encrypted bytes live: a `FileStore`, chosen by configuration alone.

- `PostgresFileStore` (default): the table `file_blobs` of the main database. The embedded
  stack needs no further service, every API replica sees the same files without a shared
  volume, and the blobs are backed up with the events they belong to (already encrypted, so a
  backup holds nothing readable once a key is erased). Its cost is database size, bounded by
  MOTCUA_FILE_MAX_BYTES per file; past a few hundred GB a province moves to object storage.
- `S3FileStore`: any S3-compatible object store (MOTCUA_FILES_S3_*), through boto3 in a
  worker thread (the reference client, kept by AWS, spoken by MinIO, Ceph RGW and the
  provincial clouds alike). deploy/FILES.md gives the bucket policy and lifecycle.

Keys are `<dossier code>/<file id>`; blobs are never overwritten (a new upload is a new id).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

import asyncpg

from motcua.files.settings import FileSettings


class BlobMissing(Exception):
    """No blob under this key."""


class StoreUnavailable(Exception):
    """The object store did not answer or refused the request (the API answers 503)."""


class FileStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete_prefix(self, prefix: str) -> int: ...


class PostgresFileStore:
    """Blobs in the table `file_blobs` (migration 0013)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def put(self, key: str, data: bytes) -> None:
        await self._pool.execute(
            "INSERT INTO file_blobs (key, data) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            key, data)

    async def get(self, key: str) -> bytes:
        data = await self._pool.fetchval("SELECT data FROM file_blobs WHERE key = $1", key)
        if data is None:
            raise BlobMissing(key)
        return bytes(data)

    async def delete_prefix(self, prefix: str) -> int:
        status = await self._pool.execute(
            "DELETE FROM file_blobs WHERE starts_with(key, $1)", prefix)
        return int(status.split()[-1])


class S3FileStore:
    """Blobs as objects in one bucket, under `prefix`."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client  # a boto3 S3 client (boto3 ships no type hints)
        self._bucket = bucket
        self._prefix = prefix

    @classmethod
    def from_settings(cls, settings: FileSettings) -> S3FileStore:
        import boto3  # only when configured: the embedded stack never loads it
        from botocore.config import Config

        if not settings.files_s3_bucket:
            raise ValueError("MOTCUA_FILES_S3_BUCKET is unset")
        secret = settings.files_s3_secret_key
        access = settings.files_s3_access_key
        client = boto3.client(
            "s3", endpoint_url=settings.files_s3_endpoint, region_name=settings.files_s3_region,
            aws_access_key_id=access.get_secret_value() if access else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            # Path-style addressing: what MinIO and most on-premises stores expect.
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"},
                          connect_timeout=5, read_timeout=30))
        return cls(client, settings.files_s3_bucket, settings.files_s3_prefix)

    async def put(self, key: str, data: bytes) -> None:
        def write() -> None:
            with _unavailable():
                self._client.put_object(Bucket=self._bucket, Key=self._prefix + key, Body=data,
                                        ContentType="application/octet-stream")
        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                with _unavailable():
                    answer = self._client.get_object(Bucket=self._bucket,
                                                     Key=self._prefix + key)
                    body: bytes = answer["Body"].read()
            except StoreUnavailable as err:
                if "NoSuchKey" in str(err.__cause__):
                    raise BlobMissing(key) from err
                raise
            return body
        return await asyncio.to_thread(read)

    async def delete_prefix(self, prefix: str) -> int:
        def delete() -> int:
            with _unavailable():
                return deleting()

        def deleting() -> int:
            deleted = 0
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=self._prefix + prefix)
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self._client.delete_objects(Bucket=self._bucket,
                                                Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
            return deleted
        return await asyncio.to_thread(delete)


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as err:
        raise StoreUnavailable(str(err)) from err


def file_store_for(settings: FileSettings, pool: asyncpg.Pool) -> FileStore:
    """The store the settings name: S3 when a bucket is set, else PostgreSQL."""
    if settings.files_s3_bucket:
        return S3FileStore.from_settings(settings)
    return PostgresFileStore(pool)
