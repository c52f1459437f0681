"""A remote SPARQL 1.1 store (Oxigraph server, Virtuoso, Fuseki, GraphDB, ...) behind `Store`.

Spec strings (see docs/remote-stores.md)::

    oxigraph+http://host:7878                      /query, /update, /store
    virtuoso+http://host:8890                      /sparql (reads), /sparql-auth (writes)
    sparql+https://host/ds?query=Q&update=U&gsp=G  any SPARQL 1.1 Protocol endpoints
    https://host/ds                                one endpoint for query and update

Reads go over the SPARQL 1.1 Protocol and come back as genuine pyoxigraph objects
(`QuerySolutions`, `QueryTriples`, `QueryBoolean`), so callers cannot tell this
store from the embedded one.

Writes: a writer stages the new version in a local in-memory pyoxigraph store
(the build's reasoning and counting queries run there, fast), and `commit()`
publishes it with ONE SPARQL Update request that drops the graphs of the version
now served, fills every named graph and rewrites the control graph. SPARQL 1.1
Update says a request SHOULD be applied atomically; the Oxigraph server (and
Fuseki/TDB2, GraphDB) run a request in one transaction, so readers see the old
version or the new one, and a build or server killed mid-request leaves the old
version serving with nothing to clean up. How the triples get into that request:

* ``publish=request``: as ``INSERT DATA`` (the Oxigraph server up to
  REQUEST_MAX_TRIPLES, its request body limit being 128 MB);
* ``publish=load``: as one ``LOAD <url> INTO GRAPH <g>`` a graph, the store
  fetching each graph's N-Triples from a short-lived HTTP server in this process
  (the Oxigraph server above REQUEST_MAX_TRIPLES);
* ``publish=staged`` (Virtuoso, which refuses large requests): uploaded first to
  staging graphs, which readers can see until the swap request copies them in.

Virtuoso's read-committed readers can see a large transaction half committed, so
reads of a Virtuoso store are guarded (`RemoteStore._guarded`): the control graph
is read before and after each query, and the query runs again if a swap
committed in between.

The control graph `urn:dpgkg:control` holds the version id (what `version()`
returns), the list of graphs that version wrote, which the next commit drops
(graphs dpgkg did not write, e.g. Virtuoso's system graphs, are never touched),
the staging records of unfinished staged uploads, and on Virtuoso the swap
marker. On the Oxigraph server the swap request also writes `urn:dpgkg:merge`, the RDF
merge of the version's graphs, which queries get as their default graph (and a query
that may use GRAPH the version's graphs as its named graphs): no query through dpgkg
sees the bookkeeping (docs/remote-stores.md, "What queries see").

Modules: :mod:`.spec` (spec strings, endpoints), :mod:`.client` (the SPARQL protocol
client), :mod:`.control` (the control graph), :mod:`.publish` (the publish strategies;
:mod:`.graph_server` serves LOAD), :mod:`.virtuoso` (guarded reads and Virtuoso's
dialect), :mod:`.store` (RemoteStore), :mod:`.writer` (RemoteWriter).
"""

from __future__ import annotations

from dpgkg.store.base import StoreError, StoreTimeout, StoreUnavailable
from dpgkg.store.remote.control import CONTROL, Control
from dpgkg.store.remote.spec import Endpoints, parse_spec, query_form, redact
from dpgkg.store.remote.store import RemoteStore
from dpgkg.store.remote.writer import RemoteWriter

__all__ = ["CONTROL", "Control", "Endpoints", "RemoteStore", "RemoteWriter", "StoreError",
           "StoreTimeout", "StoreUnavailable", "parse_spec", "query_form", "redact"]
