"""kg push: the graph into a running triple store (the Oxigraph server from PyPI), in batches."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from kg.push import batches, graph_url

from .conftest import ROOT, require_tool

TIMEOUT = 10  # seconds for any one request
COUNT_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def kg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def oxigraph_executable() -> str:
    """The server the test extra installs beside this Python, else one on PATH."""
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or require_tool("oxigraph")


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[str]:
    """A fresh Oxigraph server on a free loopback port; yields its base URL."""
    port = free_loopback_port()
    process = subprocess.Popen(
        [oxigraph_executable(), "serve", "--location", str(tmp_path / "oxigraph"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                select(base, "ASK {}")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None:
                    pytest.fail(f"the Oxigraph server stopped: {process.communicate()[1].decode()}")
                if time.monotonic() > deadline:
                    pytest.fail("the Oxigraph server did not start within 30 s")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=TIMEOUT)


def select(base: str, query: str) -> dict[str, object]:
    request = urllib.request.Request(f"{base}/query?{urlencode({'query': query})}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.load(response)


def count(base: str, query: str = COUNT_QUADS) -> int:
    return int(select(base, query)["results"]["bindings"][0]["n"]["value"])  # type: ignore[index]


def quad_count(graph_nq: Path) -> int:
    return len(graph_nq.read_text(encoding="utf-8").splitlines())


def test_kg_push_loads_every_quad_into_the_oxigraph_server(oxigraph: str, seeds_output: Path) -> None:
    result = kg("push", str(seeds_output / "graph.trig"), "--endpoint", f"{oxigraph}/store", "--batch-size", "100")
    assert result.returncode == 0, result.stderr
    quads = quad_count(seeds_output / "graph.nq")
    assert count(oxigraph) == quads
    assert result.stdout.startswith(f"{quads} triples in 6 graphs (")  # the default graph and one per source
    requests = int(result.stdout.split("(")[1].split()[0])
    assert requests > 6, "graphs larger than a batch take several requests"
    sources = count(oxigraph, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s a <https://w3id.org/newskg/ontology#Source> } }")
    assert sources == 5
    # Pushing again adds nothing new (a graph is a set of triples).
    assert kg("push", str(seeds_output / "graph.trig"), "--endpoint", f"{oxigraph}/store").returncode == 0
    assert count(oxigraph) == quads


def test_kg_push_into_one_named_graph_and_replace(oxigraph: str, seeds_output: Path, tmp_path: Path) -> None:
    target = "http://example.org/newskg"
    stale = tmp_path / "stale.nt"
    stale.write_text("<http://example.org/old> <http://example.org/p> <http://example.org/o> .\n")
    assert kg("push", str(stale), "--endpoint", f"{oxigraph}/store", "--graph", target).returncode == 0
    result = kg("push", str(seeds_output / "graph.trig"), "--endpoint", f"{oxigraph}/store", "--graph", target, "--replace", "--batch-size", "250")
    assert result.returncode == 0, result.stderr
    in_target = count(oxigraph, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}")
    # every triple of every graph, once: what graph.ttl holds
    assert in_target == sum(1 for _ in ox.parse(path=str(seeds_output / "graph.ttl")))
    assert count(oxigraph, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { <http://example.org/old> ?p ?o } }") == 0


class Refusing(BaseHTTPRequestHandler):
    """A store that accepts ``accepted`` requests, then refuses every one."""

    accepted = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).accepted -= 1
        status, body = (204, b"") if type(self).accepted >= 0 else (403, b"this dataset is read-only")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def push_to_refusing_store(graph: Path, accepted: int) -> tuple[str, subprocess.CompletedProcess[str]]:
    handler = type("RefusingStore", (Refusing,), {"accepted": accepted})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            endpoint = f"http://127.0.0.1:{server.server_address[1]}/store"
            return endpoint, kg("push", str(graph), "--endpoint", endpoint, "--batch-size", "100")
        finally:
            server.shutdown()
            thread.join(TIMEOUT)


def test_a_refusing_store_is_a_clear_error(seeds_output: Path) -> None:
    endpoint, result = push_to_refusing_store(seeds_output / "graph.trig", accepted=0)
    assert result.returncode == 1
    assert result.stderr.startswith(f"kg push: error: {endpoint} refused 100 triples for the default graph: HTTP 403 Forbidden: this dataset is read-only")
    assert "Traceback" not in result.stderr and "after" not in result.stderr


def test_a_store_that_refuses_midway_says_how_much_it_took(seeds_output: Path) -> None:
    _, result = push_to_refusing_store(seeds_output / "graph.trig", accepted=2)
    assert result.returncode == 1
    assert "HTTP 403 Forbidden" in result.stderr and "(after 200 triples in 2 requests were loaded)" in result.stderr


def test_an_unreachable_store_and_a_bad_endpoint_are_clear_errors(seeds_output: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_loopback_port()}/store"
    result = kg("push", str(seeds_output / "graph.trig"), "--endpoint", endpoint, "--timeout", "5")
    assert result.returncode == 1 and f"cannot reach {endpoint}" in result.stderr
    result = kg("push", str(seeds_output / "graph.trig"), "--endpoint", "file:///etc/passwd")
    assert result.returncode == 1 and "http://" in result.stderr
    assert kg("push", "--endpoint", endpoint, "--batch-size", "0").returncode == 2
    result = kg("push", str(seeds_output / "missing.trig"), "--endpoint", endpoint)
    assert result.returncode == 1 and "missing.trig: no such file" in result.stderr


def test_batches_split_each_graph_and_never_mix_graphs() -> None:
    a, b = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/b")

    def quad(n: int, graph: ox.NamedNode | ox.DefaultGraph) -> ox.Quad:
        return ox.Quad(a, b, ox.Literal(str(n)), graph)

    quads = [quad(n, ox.DefaultGraph()) for n in range(5)] + [quad(n, a) for n in range(3)]
    assert [(batch.graph, len(batch.triples)) for batch in batches(quads, 2)] == [
        (None, 2), (None, 2), (None, 1), ("http://example.org/a", 2), ("http://example.org/a", 1),
    ]
    assert [(batch.graph, len(batch.triples)) for batch in batches(quads, 10, graph="http://example.org/g")] == [("http://example.org/g", 8)]


def test_graph_urls_follow_the_graph_store_protocol() -> None:
    assert graph_url("http://localhost:7878/store", None) == "http://localhost:7878/store?default"
    assert graph_url("http://localhost:7878/store", "https://w3id.org/newskg/source/a b") == "http://localhost:7878/store?graph=https%3A%2F%2Fw3id.org%2Fnewskg%2Fsource%2Fa%20b"
    assert graph_url("http://h/ds/data?x=1", None) == "http://h/ds/data?x=1&default"
