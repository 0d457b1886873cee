"""Security headers for the HTML the API serves (issue 24 point 7): the citizen documents, the
printable register (`?format=html`), `/docs` and `/redoc`. The console sends its own
(`motcua.console.web.SECURITY_HEADERS`); the API's pages carry personal data (documents,
register) or run scripts on the same origin as the console's session (the docs), so they get
the same treatment: not cached, not sniffed, never framed, no Referer, and a
Content-Security-Policy that allows only this origin's scripts.

The docs pages hold one inline script each (FastAPI's Swagger UI bootstrap); rather than
`'unsafe-inline'` the policy names the sha256 of each inline script in the page it sends
(CSP Level 2 hash sources), so a script injected into the page would not run.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.responses import HTMLResponse

_BASE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# Documents and the register: no script at all; their print styles are inline.
DOCUMENT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def document_headers() -> dict[str, str]:
    """Headers of a printable page without scripts (a document, the register)."""
    return {**_BASE, "Content-Security-Policy": DOCUMENT_CSP}


def script_hashes(html: str) -> list[str]:
    """The CSP hash sources of the inline scripts in `html`."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in _INLINE_SCRIPT.findall(html)]


def docs_headers(html: str) -> dict[str, str]:
    """Headers of a docs page: scripts from this origin and the page's own inline scripts by
    hash; styles inline too (Swagger UI and ReDoc set styles at run time); ReDoc's search
    runs in a worker made from a blob."""
    scripts = " ".join(["'self'", *script_hashes(html)])
    csp = (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    return {**_BASE, "Content-Security-Policy": csp}


def secured(response: HTMLResponse, headers: dict[str, str]) -> HTMLResponse:
    """`response` with `headers` set."""
    response.headers.update(headers)
    return response
