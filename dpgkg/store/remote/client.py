"""The SPARQL 1.1 Protocol client of a remote store: SPARQLWrapper builds and sends the
query and update requests (parameters, Accept, authentication, HTTP errors); here its
failures become the store's exceptions and its answers genuine pyoxigraph results.

The Graph Store Protocol uploads of a staged publish are not SPARQL protocol requests
(SPARQLWrapper does not speak it): they go over urllib, with the same error mapping.
"""

from __future__ import annotations

import ast
import json
import socket
import threading
import urllib.error
import urllib.request

import pyoxigraph as ox
from SPARQLWrapper import DIGEST, JSON, POST, POSTDIRECTLY, TURTLE, SPARQLWrapper
from SPARQLWrapper import SPARQLExceptions as sw_errors

from dpgkg.store.base import StoreError, StoreTimeout, StoreUnavailable
from dpgkg.store.remote.spec import redact
from dpgkg.store.remote.virtuoso import (
    _fix_virtuoso_json,
    _is_query_error,
)

SELECT_JSON = "application/sparql-results+json"


GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.8, application/rdf+xml;q=0.5"


# SPARQLWrapper's exception for each HTTP status it names (others come as HTTPError).
_STATUS = {sw_errors.QueryBadFormed: 400, sw_errors.Unauthorized: 401,
           sw_errors.EndPointNotFound: 404, sw_errors.URITooLong: 414,
           sw_errors.EndPointInternalError: 500}


# SPARQLWrapper's digest authentication installs a process-wide urllib opener holding the
# password manager for each request, and urllib's digest handler counts its retries on
# itself: requests with digest credentials (Virtuoso's writes) run one at a time.
_DIGEST_LOCK = threading.Lock()


class ProtocolClient:
    """Requests to the store's endpoints (mixed into RemoteStore)."""

    def _scrub(self, text: str) -> str:
        if self.password:
            text = text.replace(self.password, "***")
        return text

    def _sparql(self, text: str, form: str | None, params: list[tuple[str, str]],
                timeout: float) -> tuple[bytes, str, dict]:
        """One SPARQL protocol request by POST: a query of `form` (SELECT, ASK, CONSTRUCT,
        DESCRIBE) with `params`, or, with `form` None, an update request.

        Queries go anonymously to Virtuoso's read endpoint; elsewhere credentials are
        sent (HTTP Basic; Virtuoso's authenticated endpoints challenge with Digest).
        """
        update = form is None
        client = SPARQLWrapper(self.endpoints.query, self.endpoints.update, agent="dpgkg")
        client.setMethod(POST)
        client.setQuery(text)
        client.queryType = "INSERT" if update else form  # not guessed from the text
        client.setOnlyConneg(True)  # no format=... parameters: our Accept says it all
        if update:
            client.setRequestMethod(POSTDIRECTLY)
        else:
            client.setReturnFormat(JSON if form in ("SELECT", "ASK") else TURTLE)
            client.addCustomHttpHeader(
                "Accept", SELECT_JSON if form in ("SELECT", "ASK") else GRAPH_ACCEPT)
        for name, value in params:
            client.addParameter(name, value)
        client.timeout = timeout  # seconds as a float (setTimeout would round it down)
        digest = self.endpoints.kind == "virtuoso"
        if self.user and (update or not digest):
            client.setCredentials(self.user, self.password or "")
            if digest:
                client.setHTTPAuth(DIGEST)
        where = redact(self.endpoints.update if update else self.endpoints.query)
        try:
            if digest and client.user:
                with _DIGEST_LOCK:
                    response = client.query().response
            else:
                response = client.query().response
            with response:
                return (response.read(), response.headers.get_content_type(),
                        dict(response.headers.items()))
        except sw_errors.SPARQLWrapperException as exc:
            raise self._failure(where, _STATUS[type(exc)], _wrapped_body(exc)) from None
        except urllib.error.HTTPError as exc:
            raise self._failure(where, exc.code, _body(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(where, exc, timeout) from None

    def _post(self, url: str, body: bytes, content_type: str, timeout: float) -> None:
        """A Graph Store Protocol POST (credentials sent when the server asks for them)."""
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": content_type, "User-Agent": "dpgkg"})
        where = redact(url)
        try:
            with self._opener(url).open(req, timeout=timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            raise self._failure(where, exc.code, _body(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(where, exc, timeout) from None

    def _opener(self, url: str) -> urllib.request.OpenerDirector:
        # A fresh opener per request: urllib's auth handlers count retries on
        # themselves, which is not safe to share between threads.
        if not self.user:
            return urllib.request.build_opener()
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, url, self.user, self.password or "")
        return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords),
                                           urllib.request.HTTPBasicAuthHandler(passwords))

    def _failure(self, where: str, code: int, text: str) -> Exception:
        """The store's exception for an HTTP error status and the body that came with it."""
        text = self._scrub(text.strip())
        first = text[:500]
        if "estimated execution time" in text:  # Virtuoso refuses before running
            return StoreTimeout(f"{where} refused a query expected to run too long: "
                                f"{first.splitlines()[0]}")
        if code == 400 or (code >= 500 and _is_query_error(text)):
            return SyntaxError(f"{where} rejected the request: {first}")
        if code in (401, 403):
            return StoreUnavailable(f"{where} refused the credentials (HTTP {code})")
        if code == 413:
            return StoreError(f"{where}: request too large (HTTP 413); "
                              "raise the server's request size limit")
        if code >= 500:
            return StoreUnavailable(f"{where} failed (HTTP {code}): {first}")
        return StoreError(f"{where} answered HTTP {code}: {first}")

    def _unreachable(self, where: str, exc: OSError, timeout: float) -> Exception:
        """The store's exception for a request that got no HTTP answer."""
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return StoreTimeout(f"{where} did not answer within {timeout:g}s")
        if isinstance(exc, urllib.error.URLError):
            return StoreUnavailable(f"cannot reach {where}: {self._scrub(str(reason))}")
        # reset mid-response, broken pipe
        return StoreUnavailable(f"lost connection to {where}: {self._scrub(str(exc))}")

    def _results(self, body: bytes, ctype: str, form: str):
        if ctype in ("application/sparql-results+json", "application/json"):
            if self.endpoints.kind == "virtuoso" or b"nodeID://" in body:
                body = _fix_virtuoso_json(body)
            return ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        fmt = ox.QueryResultsFormat.from_media_type(ctype)
        if fmt is None:
            if form == "ASK" and body.strip().lower() in (b"true", b"false", b"1", b"0"):
                return ox.parse_query_results(
                    json.dumps({"head": {}, "boolean": body.strip().lower() in (b"true", b"1")}),
                    ox.QueryResultsFormat.JSON)
            raise StoreError(f"{redact(self.endpoints.query)} answered {ctype}, "
                             "not SPARQL results")
        return ox.parse_query_results(body, fmt)


def _wrapped_body(exc: sw_errors.SPARQLWrapperException) -> str:
    """The server's answer a SPARQLWrapper exception carries (as the repr of its bytes,
    after "Response:" in its message)."""
    _, found, body = str(exc).partition("\n\nResponse:\n")
    if not found:
        return ""
    value = ast.literal_eval(body)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _body(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace")
    except (AttributeError, OSError):  # no body (urllib's own "digest auth failed")
        return str(exc.reason)


def _triples(body: bytes, ctype: str) -> ox.QueryTriples:
    fmt = ox.RdfFormat.from_media_type(ctype) or ox.RdfFormat.N_TRIPLES
    if ctype == "text/plain":
        fmt = ox.RdfFormat.N_TRIPLES
    # A throwaway store turns the parsed triples into a genuine QueryTriples.
    tmp = ox.Store()
    tmp.bulk_extend(ox.parse(body, fmt))
    return tmp.query("CONSTRUCT WHERE { ?s ?p ?o }")
