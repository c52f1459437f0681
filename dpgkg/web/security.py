"""What every response says to keep the browser safe, and JSON safe inside HTML.

Headers: ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy`` on every
response; a Content-Security-Policy on HTML pages. The policy lets the pages and the
query editor (YASGUI, served from /assets) run and nothing else: scripts and
connections to this site only, no framing by other sites.
"""

from __future__ import annotations

import json

from flask import Flask, Response
from markupsafe import Markup

# On every response, also the ones the SPARQL fast path answers below Flask.
EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; "
    # YASGUI (CodeMirror, its result table) and the validation form set inline styles;
    # CodeMirror's drag image is a data: GIF.
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def add_headers(resp: Response) -> Response:
    for k, v in EVERY_RESPONSE.items():
        resp.headers.setdefault(k, v)
    if resp.mimetype == "text/html":
        resp.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return resp


def init_app(app: Flask) -> None:
    app.after_request(add_headers)


def script_json(doc) -> Markup:
    """`doc` as JSON to embed in a ``<script>`` block (JSON-LD, data for a script).

    Inside <script> the HTML parser ends the block at ``</script`` and switches to a
    "double escaped" state at ``<!--`` followed by ``<script``, after which the real
    ``</script>`` no longer closes it and the rest of the page is swallowed. JSON may
    write ``<`` as ``\\u003c`` in strings, so no ``<`` reaches the parser at all (``>``
    and ``&`` likewise, for good measure).
    """
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))
