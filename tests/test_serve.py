"""kg serve: a read-only SPARQL 1.1 Protocol endpoint over the store, on loopback only."""
from __future__ import annotations

import http.client
import json
import selectors
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from SPARQLWrapper import JSON, POST, POSTDIRECTLY, SPARQLWrapper

from kg import store
from kg.serve import SparqlServer, negotiate

from .conftest import ROOT

INVESTMENTS = (ROOT / "queries" / "investments.rq").read_text(encoding="utf-8")
TIMEOUT = 10  # seconds for any one request or wait


def start_kg_serve(store_folder: Path) -> tuple[subprocess.Popen[str], str]:
    """``kg serve`` on a free loopback port; returns the process and the endpoint's URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--store", str(store_folder), "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=60):
            process.kill()
            pytest.fail("kg serve did not start within 60 s")
    line = process.stdout.readline()
    if not line.startswith("serving http://127.0.0.1:"):
        process.kill()
        pytest.fail(f"kg serve did not start on loopback: {line}{process.communicate(timeout=TIMEOUT)[1]}")
    return process, line.split()[1]


def stop(process: subprocess.Popen[str], signal_number: int) -> tuple[int, str]:
    process.send_signal(signal_number)
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("kg serve did not stop within 10 s")
    return process.returncode, stderr


@pytest.fixture(scope="module")
def server(seeds_output: Path) -> Iterator[SparqlServer]:
    """The endpoint in this process, for the protocol's details."""
    with SparqlServer(("127.0.0.1", 0), seeds_output / "store") as running:
        thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        yield running
        running.shutdown()
        thread.join(TIMEOUT)


def request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None) -> tuple[int, str, bytes]:
    """Status, content type and body of one request (error statuses included)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}, method=method), timeout=TIMEOUT) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def get(server: SparqlServer, query: str, accept: str = "") -> tuple[int, str, bytes]:
    return request(f"{server.url}?{urlencode({'query': query})}", headers={"Accept": accept} if accept else {})


def test_kg_serve_on_loopback_answers_sparqlwrapper_and_stops_cleanly_on_ctrl_c(seeds_output: Path) -> None:
    process, url = start_kg_serve(seeds_output / "store")
    try:
        client = SPARQLWrapper(url)
        client.setTimeout(TIMEOUT)
        client.setReturnFormat(JSON)
        client.setQuery(INVESTMENTS)
        results = client.queryAndConvert()
        assert isinstance(results, dict)
        assert results["head"]["vars"] == ["investor", "investee", "amount", "currency", "approximate", "hedged", "reported_by", "source"]
        rows = results["results"]["bindings"]
        assert {(row["investor"]["value"], row["investee"]["value"]) for row in rows} == {("Google", "A24")}
        assert {row["source"]["value"] for row in rows if "amount" in row} == {"000_37576a109dff8b6c", "001_8b1f83608ca8095d", "002_1547c0c48a61cc8d"}
        assert {(row["amount"]["value"], row["amount"]["datatype"], row["currency"]["value"]) for row in rows if "amount" in row} == {("75000000", "http://www.w3.org/2001/XMLSchema#decimal", "USD")}
        # The same over POST, form-encoded and direct.
        for method in ("urlencoded", POSTDIRECTLY):
            client.setMethod(POST)
            client.setRequestMethod(method)
            assert client.queryAndConvert() == results
    finally:
        status, stderr = stop(process, signal.SIGINT)
    assert status == 0, stderr
    assert "Traceback" not in stderr and "stopped" in stderr


def test_kg_serve_stops_cleanly_on_sigterm(seeds_output: Path) -> None:
    process, _ = start_kg_serve(seeds_output / "store")
    status, stderr = stop(process, signal.SIGTERM)
    assert status == 0, stderr
    assert "Traceback" not in stderr


def test_kg_serve_without_a_store_says_how_to_build_one(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kg", "serve", "--store", str(tmp_path), "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no store at" in result.stderr and "kg build" in result.stderr


def test_results_in_the_format_the_accept_header_asks_for(server: SparqlServer) -> None:
    select = "SELECT ?i ?e WHERE { ?i kgo:investsIn ?e }"
    status, content_type, body = get(server, select)
    assert (status, content_type) == (200, "application/sparql-results+json; charset=utf-8")
    assert json.loads(body)["results"]["bindings"][0]["i"]["value"] == "https://w3id.org/newskg/entity/google"
    status, content_type, body = get(server, select, "text/csv")
    assert (status, content_type, body) == (200, "text/csv; charset=utf-8", b"i,e\r\nhttps://w3id.org/newskg/entity/google,https://w3id.org/newskg/entity/a24\r\n")
    status, content_type, body = get(server, select, "text/tab-separated-values")
    assert content_type.startswith("text/tab-separated-values") and body.startswith(b"?i\t?e\n")
    status, content_type, body = get(server, select, "application/sparql-results+xml")
    assert content_type == "application/sparql-results+xml" and b"<uri>https://w3id.org/newskg/entity/a24</uri>" in body
    status, content_type, body = get(server, select, "text/html;q=0.9, text/csv;q=0.5")
    assert content_type.startswith("text/csv")
    status, _, body = get(server, select, "image/png")
    assert status == 406 and b"text/csv" in body


def test_ask_and_construct_results(server: SparqlServer) -> None:
    status, content_type, body = get(server, "ASK { ?i kgo:investsIn ?e }")
    assert (status, json.loads(body)) == (200, {"head": {}, "boolean": True})
    construct = "CONSTRUCT { ?i kgo:investsIn ?e } WHERE { ?i kgo:investsIn ?e }"
    triple = b"<https://w3id.org/newskg/entity/google> <https://w3id.org/newskg/ontology#investsIn> <https://w3id.org/newskg/entity/a24> .\n"
    status, content_type, body = get(server, construct, "application/n-triples")
    assert (status, content_type, body) == (200, "application/n-triples; charset=utf-8", triple)
    status, content_type, body = get(server, construct)
    assert content_type == "text/turtle; charset=utf-8" and b"<https://w3id.org/newskg/entity/a24>" in body


def test_post_a_query_directly_or_as_a_form(server: SparqlServer) -> None:
    ask = "ASK { ?i kgo:investsIn ?e }"
    status, _, body = request(server.url, data=ask.encode(), headers={"Content-Type": "application/sparql-query"})
    assert (status, json.loads(body)["boolean"]) == (200, True)
    status, _, body = request(server.url, data=urlencode({"query": ask}).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, json.loads(body)["boolean"]) == (200, True)
    status, _, _ = request(server.url, data=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert status == 415


def test_a_bad_query_is_a_400_with_the_syntax_error(server: SparqlServer) -> None:
    status, content_type, body = get(server, "SELECT * WHERE {\n  ?s ?p ?o } LIMIT x")
    assert (status, content_type) == (400, "text/plain; charset=utf-8")
    assert body.startswith(b"syntax error at line 2, column 20: ")
    assert get(server, "")[0] == 400
    assert request(server.url)[0] == 400  # no query at all


def test_updates_are_refused(server: SparqlServer) -> None:
    update = "INSERT DATA { <http://example.org/a> <http://example.org/b> <http://example.org/c> }"
    status, _, body = request(server.url, data=urlencode({"update": update}).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and b"read-only" in body
    status, _, body = request(server.url, data=update.encode(), headers={"Content-Type": "application/sparql-update"})
    assert status == 400 and b"read-only" in body
    status, _, _ = get(server, update)  # an update sent as a query does not parse as one
    assert status == 400
    for method in ("PUT", "DELETE"):
        assert request(server.url, data=b"", method=method)[0] == 405
    assert get(server, "ASK { <http://example.org/a> ?p ?o }")[2] == b'{"head":{},"boolean":false}'


def test_default_and_named_graph_parameters_restrict_the_dataset(server: SparqlServer) -> None:
    source = "https://w3id.org/newskg/source/004_d2849b6abe9dfc84"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?c a kgo:Claim }"
    url = f"{server.url}?{urlencode({'query': count, 'default-graph-uri': source})}"
    only_004 = int(json.loads(request(url)[2])["results"]["bindings"][0]["n"]["value"])
    everything = int(json.loads(get(server, count)[2])["results"]["bindings"][0]["n"]["value"])
    assert 0 < only_004 < everything
    assert request(f"{server.url}?{urlencode({'query': count, 'default-graph-uri': 'not an iri'})}")[0] == 400


def test_other_paths_and_oversized_bodies(server: SparqlServer) -> None:
    assert request(server.url.replace("/sparql", "/update"))[0] == 404
    status, _, body = request(server.url.replace("/sparql", "/"))
    assert status == 200 and b"/sparql" in body
    # The server answers from the headers, before any of the body is sent.
    assert post_headers_only(server, str((1 << 20) + 1)) == 413
    assert post_headers_only(server, "many") == 400


def post_headers_only(server: SparqlServer, content_length: str) -> int:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", "/sparql")
        connection.putheader("Content-Type", "application/sparql-query")
        connection.putheader("Content-Length", content_length)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_rebuilt_store_is_served_without_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    first, second = tmp_path / "first.nq", tmp_path / "second.nq"
    first.write_text("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n")
    second.write_text("<http://example.org/a> <http://example.org/p> <http://example.org/c> .\n")
    store.refresh(folder, first)
    with SparqlServer(("127.0.0.1", 0), folder) as running:
        thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            objects = "SELECT ?o WHERE { ?s ?p ?o }"
            assert json.loads(get(running, objects)[2])["results"]["bindings"] == [{"o": {"type": "uri", "value": "http://example.org/b"}}]
            store.refresh(folder, second)
            assert json.loads(get(running, objects)[2])["results"]["bindings"] == [{"o": {"type": "uri", "value": "http://example.org/c"}}]
        finally:
            running.shutdown()
            thread.join(TIMEOUT)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("text/*", "text/csv"),
        ("application/sparql-results+xml, */*;q=0.1", "application/sparql-results+xml"),
        ("text/csv;q=0.2, text/tab-separated-values;q=0.8", "text/tab-separated-values"),
        ("text/csv;q=0", None),
        ("image/png", None),
        ("text/csv;q=oops, application/json", "application/json"),
    ],
)
def test_negotiation(accept: str, chosen: str | None) -> None:
    offers = ["application/sparql-results+json", "application/json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"]
    assert negotiate(accept, offers) == chosen
