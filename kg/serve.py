"""A read-only SPARQL 1.1 Protocol endpoint over the embedded store.

The standard library's HTTP server in front of pyoxigraph: GET ``/sparql?query=...``, POST
``application/sparql-query`` or a form with ``query=``; results in the format the Accept
header asks for. Nothing writes: SPARQL Update is refused and the store is opened read-only.
When ``kg build`` refreshes the store, the next request opens the new one.
"""
from __future__ import annotations

import ipaddress
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

from kg import query, store

ENDPOINT_PATH = "/sparql"
MAX_BODY = 1 << 20  # bytes: a query is text; anything bigger is a mistake or an attack
REQUEST_TIMEOUT = 60  # seconds a client may take to send its request
READ_ONLY = "this endpoint is read-only: SPARQL Update is not supported"

# What each kind of result can be sent as, the first one when the client accepts anything.
SOLUTION_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


class ReadOnlyStore:
    """The store at a folder, reopened when a rebuild has swapped a new one in."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._identity = self._folder_identity()
        self._store = store.open_read_only(self.folder)

    def _folder_identity(self) -> tuple[int, int] | None:
        try:
            status = os.stat(self.folder)
        except OSError:  # between the two renames of a refresh: keep serving the old store
            return None
        return status.st_dev, status.st_ino

    def current(self) -> ox.Store:
        with self._lock:
            identity = self._folder_identity()
            if identity is not None and identity != self._identity:
                self._store = store.open_read_only(self.folder)
                self._identity = identity
            return self._store


@dataclass(frozen=True, slots=True)
class Response:
    status: HTTPStatus
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def text(status: HTTPStatus, message: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"))


class SparqlHandler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = "newskg-sparql"
    timeout = REQUEST_TIMEOUT

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        url = urlsplit(self.path)
        if url.path == "/":
            self._send(text(HTTPStatus.OK, f"newskg: a read-only SPARQL 1.1 endpoint at {ENDPOINT_PATH}"))
        elif url.path != ENDPOINT_PATH:
            self._send(text(HTTPStatus.NOT_FOUND, f"no such resource: the SPARQL endpoint is {ENDPOINT_PATH}"))
        else:
            self._send(self._answer(parse_qs(url.query)))

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path != ENDPOINT_PATH:
            self._send(text(HTTPStatus.NOT_FOUND, f"no such resource: the SPARQL endpoint is {ENDPOINT_PATH}"))
            return
        length = self._content_length()
        if length is None:
            self.close_connection = True
            self._send(text(HTTPStatus.BAD_REQUEST, "the Content-Length header must be a number of bytes"))
            return
        if length > MAX_BODY:
            self.close_connection = True  # the body stays unread
            self._send(text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a query may be at most {MAX_BODY} bytes"))
            return
        body = self.rfile.read(length)
        params = parse_qs(url.query)
        media_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type == "application/sparql-query":
            params["query"] = [body.decode("utf-8", errors="replace")]
        elif media_type == "application/x-www-form-urlencoded":
            params.update(parse_qs(body.decode("utf-8", errors="replace")))
        elif media_type == "application/sparql-update":
            self._send(text(HTTPStatus.BAD_REQUEST, READ_ONLY))
            return
        else:
            self._send(text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/sparql-query or application/x-www-form-urlencoded"))
            return
        self._send(self._answer(params))

    def _content_length(self) -> int | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return length if length >= 0 else None

    def _refuse_method(self) -> None:
        self._send(text(HTTPStatus.METHOD_NOT_ALLOWED, "this endpoint is read-only: use GET or POST with a query"))

    do_PUT = do_DELETE = do_PATCH = _refuse_method

    def _answer(self, params: dict[str, list[str]]) -> Response:
        if "update" in params:
            return text(HTTPStatus.BAD_REQUEST, READ_ONLY)
        queries = params.get("query", [])
        if len(queries) != 1:
            return text(HTTPStatus.BAD_REQUEST, "give exactly one 'query' parameter")
        try:
            result = query.run(self.server.store.current(), queries[0], params.get("default-graph-uri", []), params.get("named-graph-uri", []))
        except ValueError as error:  # a syntax error, or a graph parameter that is not an IRI
            return text(HTTPStatus.BAD_REQUEST, str(error))
        except store.StoreError as error:
            return text(HTTPStatus.SERVICE_UNAVAILABLE, str(error))
        offers = GRAPH_TYPES if isinstance(result, ox.QueryTriples) else SOLUTION_TYPES
        media_type = negotiate(self.headers.get("Accept", ""), list(offers))
        if media_type is None:
            return text(HTTPStatus.NOT_ACCEPTABLE, f"this result can be sent as {', '.join(offers)}")
        try:
            body = result.serialize(format=offers[media_type])
        except OSError as error:
            return text(HTTPStatus.INTERNAL_SERVER_ERROR, f"the query failed: {error}")
        charset = "" if media_type.endswith("xml") else "; charset=utf-8"
        return Response(HTTPStatus.OK, body, media_type + charset)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path without its query string: a query can be kilobytes long.
        self.log_message('"%s %s" %s', self.command, urlsplit(self.path).path, code)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if response.status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, POST")
        self.end_headers()
        self.wfile.write(response.body)


def negotiate(accept: str, offers: list[str]) -> str | None:
    """The offer the Accept header prefers (the first offer when it names none), or None."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media_range, *parameters = (piece.strip().lower() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_range:
            ranges.append((-quality, position, media_range))
    if not ranges:
        return offers[0]
    for negative_quality, _, media_range in sorted(ranges):
        if negative_quality >= 0:
            break
        for offer in offers:
            if media_range in (offer, "*/*") or (media_range.endswith("/*") and offer.startswith(media_range[:-1])):
                return offer
    return None


class SparqlServer(ThreadingHTTPServer):
    daemon_threads = True  # a slow client never delays a stop

    def __init__(self, address: tuple[str, int], folder: Path) -> None:
        self.store = ReadOnlyStore(folder)
        self.address_family = socket.getaddrinfo(address[0], address[1], type=socket.SOCK_STREAM)[0][0]
        super().__init__(address, SparqlHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{ENDPOINT_PATH}"

    @property
    def is_loopback(self) -> bool:
        return ipaddress.ip_address(self.server_address[0]).is_loopback


class _Stop(Exception):
    """Raised by SIGINT and SIGTERM to leave serve_forever."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def serve(server: SparqlServer, on_ready: Callable[[], None] = lambda: None) -> None:
    """Serve until Ctrl-C or SIGTERM, then close the socket (main thread only). ``on_ready``
    runs once the signals are caught: a client told the server is up may stop it at once."""
    previous = {number: signal.signal(number, _stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_ready()
        server.serve_forever()
    except _Stop:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.server_close()
