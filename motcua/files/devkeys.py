"""The dev stack's file secrets, made once under its data dir (0600): the master key that
wraps the per-dossier keys, and a local signing certificate (a dev CA and a signer issued by
it, as PKCS#12) for results. Never for production: there the master key comes from the secret
store and signing from the provincial CA (deploy/FILES.md)."""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSPHRASE_BYTES = 18


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motcua dev"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_signer(common_name: str = "motcua dev signer", *,
                days: int = 3650) -> tuple[bytes, bytes, bytes]:
    """(PKCS#12 of the signer with its chain, its passphrase, the CA certificate as DER)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("motcua dev CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=False, content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
              encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    passphrase = base64.urlsafe_b64encode(os.urandom(PASSPHRASE_BYTES))
    bundle = pkcs12.serialize_key_and_certificates(
        b"motcua-dev-signer", key, cert, [ca],
        serialization.BestAvailableEncryption(passphrase))
    return bundle, passphrase, ca.public_bytes(serialization.Encoding.DER)


def dev_files_env(data_dir: Path) -> dict[str, str]:
    """The settings for the dev stack's children; made on first start, kept afterwards. What
    the environment already sets is left alone."""
    env: dict[str, str] = {}
    if not os.environ.get("MOTCUA_FILES_MASTER_KEY"):
        path = data_dir / "files-master-key"
        if not path.exists():
            _write_secret(path, base64.b64encode(os.urandom(32)))
        env["MOTCUA_FILES_MASTER_KEY"] = path.read_text().strip()
    if not os.environ.get("MOTCUA_SIGNING_PKCS12"):
        bundle_path = data_dir / "signing.p12"
        secret_path = data_dir / "signing.passphrase"
        if not bundle_path.exists():
            bundle, passphrase, ca = make_signer()
            _write_secret(secret_path, passphrase)
            _write_secret(bundle_path, bundle)
            (data_dir / "signing-ca.der").write_bytes(ca)  # public: for validating results
        env["MOTCUA_SIGNING_PKCS12"] = str(bundle_path)
        env["MOTCUA_SIGNING_PASSPHRASE"] = secret_path.read_text().strip()
    return env
