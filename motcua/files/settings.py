"""Settings of the file feature, read from the environment at start-up like `motcua.config`
(kept apart so the feature is configured in one place)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class FileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore")

    # Largest file accepted (413 beyond). 20 MiB holds a 30-page colour scan at 200 dpi; a
    # province may set its own.
    file_max_bytes: int = Field(default=20 * MIB, ge=1024, le=512 * MIB)
    # The master key wrapping every dossier's data key: base64 of 32 bytes. Unset: the file
    # routes answer 503 (no file is ever stored in clear). `motcua dev` creates one.
    files_master_key: SecretStr | None = None
    # Where the per-dossier keys live: a PostgreSQL DSN. Unset: the main database, in its own
    # schema `motcua_keys`; production points it at a separate database with its own (shorter)
    # backup retention, so restoring a data backup cannot resurrect an erased key.
    keystore_url: str | None = None
    # S3-compatible object storage (production). With a bucket set, files go there; without,
    # into the PostgreSQL table `file_blobs` (the embedded stack needs no extra service).
    files_s3_bucket: str | None = None
    files_s3_endpoint: str | None = None
    files_s3_region: str = "us-east-1"
    files_s3_prefix: str = "dossiers/"
    files_s3_access_key: SecretStr | None = None
    files_s3_secret_key: SecretStr | None = None
    # The result signer: a PKCS#12 file (certificate, key, chain) and its passphrase. Unset:
    # results cannot be issued (503). `motcua dev` creates a local one under its data dir.
    signing_pkcs12: Path | None = None
    signing_passphrase: SecretStr | None = None
    # Or the provincial CA's remote signing service (motcua.files.signing.RemoteSigner): its
    # URL, the key's id there, a bearer token, and the unit's certificate chain (PEM, leaf
    # first). When the URL is set it is used instead of the PKCS#12 file.
    signing_service_url: str | None = None
    signing_service_key_id: str = ""
    signing_service_token: SecretStr | None = None
    signing_chain_pem: Path | None = None
    # The rendered result embeds its font (PDF/A with Vietnamese text). Unset: Noto Sans from
    # the `pymupdf-fonts` package (installed with motcua); set: a folder holding
    # DejaVuSans.ttf and DejaVuSans-Bold.ttf (e.g. Debian's /usr/share/fonts/truetype/dejavu).
    result_font_dir: Path | None = None
