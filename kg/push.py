"""Load a graph into a running triple store with the SPARQL 1.1 Graph Store HTTP Protocol.

Each named graph of the file goes to the store's graph of the same name (``?graph=IRI``) and
the default graph to its default graph (``?default``), or everything to the one graph the
user names. Quads are read as a stream and sent in batches of N-Triples, so a graph larger
than memory, or than the store accepts in one request, still loads.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

DEFAULT_BATCH_SIZE = 10_000
# N-Triples is a subset of Turtle: every Graph Store implementation reads text/turtle.
CONTENT_TYPE = "text/turtle; charset=utf-8"
_MAX_ERROR_BODY = 2_000


class PushError(OSError):
    """The store could not be reached or refused a request; the message says which and why."""


@dataclass(frozen=True, slots=True)
class PushSummary:
    triples: int
    graphs: int
    requests: int


@dataclass(frozen=True, slots=True)
class Batch:
    graph: str | None  # None: the default graph
    triples: list[ox.Triple]


def push(
    source: Path,
    endpoint: str,
    *,
    graph: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    replace: bool = False,
    timeout: float = 60.0,
) -> PushSummary:
    """Send the quads of ``source`` (TriG, N-Quads, Turtle, ...) to ``endpoint``; into the one
    graph ``graph`` when given. With ``replace``, each graph's first request is a PUT, which
    empties that graph in the store first; later ones are POSTs, which add."""
    if urlsplit(endpoint).scheme not in ("http", "https"):
        raise PushError(f"{endpoint}: the endpoint must be an http:// or https:// URL")
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    if not Path(source).is_file():
        raise PushError(f"{source}: no such file (kg build writes output/graph.trig)")
    started: set[str | None] = set()
    triples = requests = 0
    for batch in batches(read_quads(source), batch_size, graph):
        method = "PUT" if replace and batch.graph not in started else "POST"
        started.add(batch.graph)
        try:
            send(endpoint, batch, method, timeout)
        except PushError as error:
            if requests:  # the store keeps what it accepted: say how much that was
                raise PushError(f"{error} (after {triples} triples in {requests} requests were loaded)") from None
            raise
        triples += len(batch.triples)
        requests += 1
    return PushSummary(triples, len(started), requests)


def read_quads(source: Path) -> Iterator[ox.Quad]:
    try:
        yield from ox.parse(path=str(source))
    except (SyntaxError, ValueError) as error:
        raise PushError(f"{source}: cannot read the graph: {error}") from error


def batches(quads: Iterable[ox.Quad], size: int, graph: str | None = None) -> Iterator[Batch]:
    """Consecutive quads of one graph, at most ``size`` at a time (newskg's files list each
    graph's quads together, so each graph takes ceil(n / size) requests)."""
    current: Batch | None = None
    for quad in quads:
        name = graph if graph is not None else _graph_name(quad.graph_name)
        if current is None or current.graph != name or len(current.triples) >= size:
            if current is not None:
                yield current
            current = Batch(name, [])
        current.triples.append(quad.triple)
    if current is not None:
        yield current


def _graph_name(name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> str | None:
    if isinstance(name, ox.DefaultGraph):
        return None
    if isinstance(name, ox.BlankNode):
        raise PushError("a graph named by a blank node cannot be addressed over HTTP: use --graph IRI")
    return name.value


def graph_url(endpoint: str, graph: str | None) -> str:
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}default" if graph is None else f"{endpoint}{separator}graph={quote(graph, safe='')}"


def send(endpoint: str, batch: Batch, method: str, timeout: float) -> None:
    body = ox.serialize(batch.triples, format=ox.RdfFormat.N_TRIPLES)
    request = urllib.request.Request(graph_url(endpoint, batch.graph), data=body, method=method, headers={"Content-Type": CONTENT_TYPE})
    target = "the default graph" if batch.graph is None else f"graph <{batch.graph}>"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        detail = error.read(_MAX_ERROR_BODY).decode("utf-8", errors="replace").strip()
        raise PushError(f"{endpoint} refused {len(batch.triples)} triples for {target}: HTTP {error.code} {error.reason}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise PushError(f"cannot reach {endpoint}: {reason}") from None
