"""How fast `kg query` answers "who invested in whom" on a store of a million triples.

The graph is synthetic but shaped like a real build: the seeds' graph (output/graph.nq) copied
until it holds the number of triples asked for, each copy with its own entity, claim,
evidence and source IRIs, labels and identifiers, so no two copies share a node. The store is
loaded the way `kg build` loads it, and the query runs through the same functions `kg query`
calls (parse, evaluate over the union graph, write CSV). The time is compared with a plain
COUNT over every quad, which reads the whole store once.

    .venv/bin/python benchmarks/bench_query.py [--triples 1000000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg import query, store
from kg.ids import DEFAULT_BASE_IRI

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "output" / "graph.nq"
INVESTMENTS = ROOT / "queries" / "investments.rq"
COUNT = "SELECT (COUNT(*) AS ?quads) WHERE { ?s ?p ?o }"
# Nodes a build mints per input; ontology and rule IRIs stay shared by every copy.
MINTED = tuple(f"{DEFAULT_BASE_IRI}{kind}/" for kind in ("entity", "claim", "evidence", "source", "build"))
NAMES = {
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "http://purl.org/dc/terms/identifier",
}


def copy_term(term: ox.NamedNode | ox.Literal, copy: int) -> ox.NamedNode | ox.Literal:
    if isinstance(term, ox.NamedNode) and term.value.startswith(MINTED):
        return ox.NamedNode(f"{term.value}-{copy}")
    return term


def copy_quad(quad: ox.Quad, copy: int) -> ox.Quad:
    subject, predicate, obj = quad.subject, quad.predicate, quad.object
    if isinstance(obj, ox.Literal) and predicate.value in NAMES:
        obj = ox.Literal(f"{obj.value} {copy}")  # "Google 17": each copy its own names
    graph = quad.graph_name
    return ox.Quad(copy_term(subject, copy), predicate, copy_term(obj, copy), graph if isinstance(graph, ox.DefaultGraph) else copy_term(graph, copy))


def synthetic_quads(seeds: list[ox.Quad], target: int) -> Iterator[list[ox.Quad]]:
    """Copies of the seeds' quads, one list per copy, until ``target`` quads in all."""
    shared = [quad for quad in seeds if copy_quad(quad, 0) == quad]
    own = [quad for quad in seeds if copy_quad(quad, 0) != quad]
    yield shared
    written, copy = len(shared), 0
    while written < target:
        batch = [copy_quad(quad, copy) for quad in own[: target - written]]
        yield batch
        written += len(batch)
        copy += 1


def write_nquads(path: Path, target: int) -> int:
    seeds = list(ox.parse(path=str(SEEDS), format=ox.RdfFormat.N_QUADS))
    count = 0
    with path.open("wb") as file:
        for quads in synthetic_quads(seeds, target):
            file.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
            count += len(quads)
    return count


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The median of ``repeat`` runs after one warm-up run, and the last result."""
    result = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--triples", type=int, default=1_000_000, help="size of the synthetic graph (default: 1000000)")
    arguments.add_argument("--repeat", type=int, default=5, help="timed runs of each query (default: 5)")
    args = arguments.parse_args()

    with tempfile.TemporaryDirectory(prefix="newskg-bench-") as work:
        nquads, folder = Path(work) / "graph.nq", Path(work) / "store"
        start = time.perf_counter()
        quads = write_nquads(nquads, args.triples)
        generated = time.perf_counter() - start
        start = time.perf_counter()
        store.refresh(folder, nquads)
        loaded = time.perf_counter() - start
        database = store.open_read_only(folder)
        print(f"{len(database):,} quads ({quads:,} written in {generated:.1f} s), store loaded in {loaded:.1f} s")

        investments_text = query.read_query(str(INVESTMENTS))
        investments, csv = timed(lambda: query.render(query.run(database, investments_text), "csv"), args.repeat)
        counting, count = timed(lambda: query.render(query.run(database, COUNT), "csv"), args.repeat)
        rows = len(bytes(csv).splitlines()) - 1  # type: ignore[arg-type]
        print(f"who invested in whom ({rows:,} rows): {investments * 1000:.0f} ms (median of {args.repeat})")
        print(f"COUNT of every quad ({bytes(count).split()[-1].decode()}): {counting * 1000:.0f} ms")  # type: ignore[arg-type]
        print(f"ratio: {investments / counting:.2f}x the COUNT")

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kg", "query", str(INVESTMENTS), "--store", str(folder)], check=True, stdout=subprocess.DEVNULL, timeout=600)
        print(f"`kg query queries/investments.rq` end to end (process start included): {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
