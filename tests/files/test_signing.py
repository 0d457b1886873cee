"""The remote signer: only the digest leaves, the service's raw signature comes back, and the
PDF pyHanko assembles validates as intact, valid and trusted."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime

import httpx
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from motcua.files.devkeys import make_signer
from motcua.files.signing import RemoteSigner, ResultText, render


async def test_remote_signing_service() -> None:
    """A fake provincial service holding the key signs the digest; the result is trusted."""
    bundle, passphrase, ca_der = make_signer("UBND xã Bắc Hà")
    key, cert, chain = pkcs12.load_key_and_certificates(bundle, passphrase)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and cert is not None
    seen: list[dict[str, str]] = []

    def service(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        digest = base64.b64decode(body["digest"])
        raw = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return httpx.Response(200, json={"signature": base64.b64encode(raw).decode()})

    certs = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
             for c in [cert, *chain]]
    async with httpx.AsyncClient(transport=httpx.MockTransport(service)) as client:
        signer = RemoteSigner(client=client, url="https://ky-so.example/sign",
                              key_id="unit-1", chain=certs)
        pdf = render(ResultText(code="C-1", procedure="P", unit="U", applicant="A",
                                summary="S", signed_by="o",
                                issued_at=datetime(2026, 12, 7, tzinfo=UTC)))
        signed = await signer.sign(pdf, reason="test", location="Bắc Hà")
    assert len(seen) == 1 and seen[0]["key_id"] == "unit-1"
    assert len(base64.b64decode(seen[0]["digest"])) == 32  # a digest, never the document
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = await async_validate_pdf_signature(signature, ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(ca_der)]))
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
