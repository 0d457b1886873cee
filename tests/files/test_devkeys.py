"""The dev stack's file secrets: made once under the data dir, private, and usable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from motcua.files import crypto
from motcua.files.devkeys import dev_files_env
from motcua.files.signing import LocalSigner


def test_made_once_private_and_loadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """First start makes the master key and a signer (0600); the next start reuses them; the
    signer loads with its passphrase; settings from the environment are left alone."""
    for name in ("MOTCUA_FILES_MASTER_KEY", "MOTCUA_SIGNING_PKCS12"):
        monkeypatch.delenv(name, raising=False)
    first = dev_files_env(tmp_path)
    assert dev_files_env(tmp_path) == first
    assert len(crypto.master_key(first["MOTCUA_FILES_MASTER_KEY"])) == 32
    for secret in ("files-master-key", "signing.p12", "signing.passphrase"):
        assert stat.S_IMODE((tmp_path / secret).stat().st_mode) == 0o600
    LocalSigner(Path(first["MOTCUA_SIGNING_PKCS12"]),
                first["MOTCUA_SIGNING_PASSPHRASE"].encode())
    monkeypatch.setenv("MOTCUA_FILES_MASTER_KEY", "from-the-environment")
    assert "MOTCUA_FILES_MASTER_KEY" not in dev_files_env(tmp_path)
