"""The S3 file store against an S3-compatible server running here (moto in server mode, on
a free loopback port), configured by settings alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from motcua.files.settings import FileSettings
from motcua.files.store import BlobMissing, S3FileStore, file_store_for
from tests.files.conftest import BUCKET, moto_s3


@pytest.fixture(scope="module")
def s3_settings() -> Iterator[FileSettings]:
    """A moto S3 server with one bucket, and the settings that point at it."""
    with moto_s3() as settings:
        yield settings


async def test_put_get_delete(s3_settings: FileSettings) -> None:
    """Blobs go in and come out byte for byte under the prefix; a dossier's blobs are deleted
    together; a missing one is `BlobMissing`."""
    store = file_store_for(s3_settings, pool=None)  # type: ignore[arg-type]
    assert isinstance(store, S3FileStore)
    data = bytes(range(256)) * 100
    await store.put("D-1/a", data)
    await store.put("D-1/b", b"second")
    await store.put("D-2/a", b"other dossier")
    assert await store.get("D-1/a") == data
    listed = boto3.client(
        "s3", endpoint_url=s3_settings.files_s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test").list_objects_v2(Bucket=BUCKET)
    assert {o["Key"] for o in listed["Contents"]} >= {"dossiers/D-1/a", "dossiers/D-2/a"}
    assert await store.delete_prefix("D-1/") == 2
    with pytest.raises(BlobMissing):
        await store.get("D-1/a")
    assert await store.get("D-2/a") == b"other dossier"


def test_deploy_policy_and_lifecycle(s3_settings: FileSettings) -> None:
    """deploy/s3's bucket policy and lifecycle are accepted by an S3 server as written."""
    s3 = boto3.client("s3", endpoint_url=s3_settings.files_s3_endpoint,
                      region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    folder = Path(__file__).parents[2] / "deploy" / "s3"
    s3.put_bucket_policy(Bucket=BUCKET, Policy=(folder / "bucket-policy.json").read_text())
    lifecycle = json.loads((folder / "lifecycle.json").read_text())
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=lifecycle)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert {r["ID"] for r in rules} == {"abort-incomplete-uploads", "expire-deleted-versions"}
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert any(s["Effect"] == "Deny" for s in policy["Statement"])
