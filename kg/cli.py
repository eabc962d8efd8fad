"""The ``kg`` command: argv in, one API call per command, a summary out.

Exit codes: 0 ok, 1 error, 2 usage, 3 a graph that breaks the shapes (kg build, kg validate),
130 interrupted.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from kg.ids import DEFAULT_BASE_IRI

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # as a shell reports Ctrl-C
DEFAULT_STORE = Path("output/store")


def _build(args: argparse.Namespace) -> int:
    if args.workers > 1 and not args.dask:
        from kg.workers import start_fork_server

        start_fork_server()  # spaCy loads for the workers while this process imports and reads
    from kg import pipeline
    from kg.ingest import SourceError
    from kg.export import OutputBusy, output_lock
    from kg.validate import NonConformingGraph

    cache_dir = None if args.no_cache else (args.cache or args.output / ".cache")
    try:
        settings = pipeline.Settings(
            base_iri=args.base_iri,
            overrides=pipeline.load_overrides(args.overrides) if args.overrides else pipeline.Overrides(),
            known_entities=pipeline.load_known_entities(args.entities) if args.entities else (),
            timestamp=datetime.now(timezone.utc).replace(microsecond=0).isoformat() if args.timestamp else None,
            workers=args.workers,
            dask=args.dask,
            cache_dir=cache_dir,
            encoding=args.encoding,
            max_bytes=args.max_bytes,
            previous_graph=pipeline.conforming_output(args.output, cache_dir),
        )
        missing = [path for path in args.sources if not path.exists()]
        if missing:
            raise SourceError(f"{missing[0]}: no such file or folder")
        with output_lock(args.output):
            fingerprint = pipeline.output_fingerprint(args.sources, settings)
            unchanged = pipeline.recorded_summary(args.output, settings, fingerprint)
            if unchanged is not None and args.store is None:
                _print_summary(args, {**unchanged, "up_to_date": True}, [args.output / name for name in sorted(unchanged.get("files", []))])
                return EXIT_OK
            bar = _progress_bar(quiet=args.quiet or args.json)
            graph = pipeline.build(args.sources, settings=settings, progress=bar.update if bar else None)
            if bar:
                bar.close()
            for path, reason in graph.skipped:
                print(f"warning: skipped {path}: {reason}", file=sys.stderr)
            if args.strict and graph.skipped:
                print(f"kg build: error: {len(graph.skipped)} input(s) skipped and --strict is set; nothing written", file=sys.stderr)
                return EXIT_ERROR
            written = graph.write(args.output, store_dir=args.store)
            summary = {**graph.summary(), "files": [p.name for p in written]}
            pipeline.record_build(args.output, settings, fingerprint, written, summary)
    except KeyboardInterrupt:
        print(f"kg build: interrupted; {args.output}/ is as it was before this build", file=sys.stderr)
        return EXIT_INTERRUPTED
    except NonConformingGraph as error:
        for violation in error.violations:
            print(violation, file=sys.stderr)
        print(f"kg build: error: {error}; nothing written", file=sys.stderr)
        return EXIT_INVALID
    except (pipeline.BuildError, SourceError, OutputBusy, OSError) as error:
        print(f"kg build: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    _print_summary(args, summary, written)
    return EXIT_OK


def _print_summary(args: argparse.Namespace, summary: dict, written: list[Path]) -> None:
    if args.json:
        print(json.dumps({**summary, "output": str(args.output), "files": [str(p) for p in written]}, indent=2))
    elif not args.quiet:
        skipped = len(summary["skipped"])  # type: ignore[arg-type]
        print(
            f"{summary['sources']} sources, {summary['entities']} entities, {summary['facts']} facts "
            f"({summary['claims']} claims), {summary['triples']} triples -> {args.output}/"
            + (f" ({skipped} files skipped)" if skipped else "")
            + (" (up to date: nothing changed since the last build)" if summary.get("up_to_date") else "")
        )


def _progress_bar(quiet: bool):  # noqa: ANN202 - a tqdm bar or None
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(unit="doc", desc="reading", file=sys.stderr, leave=False)


def _view(args: argparse.Namespace) -> int:
    from kg.export import write_atomic
    from kg.graph import GRAPH_FORMATS, read_graph
    from kg.view import render_html

    if args.graph.suffix not in GRAPH_FORMATS:
        print(f"kg view: error: {args.graph}: unknown graph format (use {', '.join(GRAPH_FORMATS)})", file=sys.stderr)
        return EXIT_USAGE
    try:
        output = args.output or args.graph.with_suffix(".html")
        write_atomic(output, render_html(read_graph(args.graph).quads, title=args.title, html_dir=output.parent))
    except (OSError, ValueError) as error:
        print(f"kg view: error: {args.graph}: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(output)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from kg import validate
    from kg.graph import read_graph

    try:
        graph = read_graph(args.graph)
    except (OSError, ValueError) as error:
        print(f"kg validate: error: {args.graph}: {error}", file=sys.stderr)
        return EXIT_ERROR
    violations = validate.validate(graph)
    for violation in violations:
        print(violation)
    if not validate.conforms(violations):
        print(f"kg validate: {args.graph} does not conform to {validate.SHAPES_FILE.name} ({len(violations)} violations)", file=sys.stderr)
        return EXIT_INVALID
    print(f"{args.graph} conforms to {validate.SHAPES_FILE.name} ({len(graph)} triples)")
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from rdflib import Dataset

    from kg import evaluate

    graph_file = args.graph / "graph.ttl" if args.graph.is_dir() else args.graph
    try:
        gold = evaluate.load_gold(args.gold)
        dataset = Dataset(default_union=True)
        dataset.parse(graph_file, format="trig" if graph_file.suffix == ".trig" else None)
    except (OSError, ValueError, SyntaxError) as error:
        print(f"kg eval: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    result = evaluate.score(dataset, gold, skip_implicit=args.skip_implicit)
    print(json.dumps(result.as_dict(), indent=2) if args.json else evaluate.report(result))
    return EXIT_OK


def _query(args: argparse.Namespace) -> int:
    from kg import query, store

    try:
        text = sys.stdin.read() if args.query == "-" else query.read_query(args.query)
        result = query.run(store.open_read_only(args.store), text)
        output = query.render(result, args.format or ("table" if sys.stdout.isatty() else "csv"))
    except query.QuerySyntaxError as error:
        where = f"{args.query}: " if text != args.query and args.query != "-" else ""
        print(f"kg query: {where}{error}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError) as error:
        print(f"kg query: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.buffer.write(output)
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from kg import serve

    try:
        server = serve.SparqlServer((args.host, args.port), args.store)
    except OSError as error:
        print(f"kg serve: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if not server.is_loopback:
        print(f"kg serve: warning: {server.url} is reachable from other machines", file=sys.stderr)
    serve.serve(server, on_ready=lambda: print(f"serving {server.url} (read-only; Ctrl-C stops)", flush=True))
    print("kg serve: stopped", file=sys.stderr)
    return EXIT_OK


def _push(args: argparse.Namespace) -> int:
    from kg import push

    try:
        summary = push.push(args.graph_file, args.endpoint, graph=args.graph, batch_size=args.batch_size, replace=args.replace, timeout=args.timeout)
    except OSError as error:
        print(f"kg push: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{summary.triples} triples in {summary.graphs} graphs ({summary.requests} requests) -> {args.endpoint}")
    return EXIT_OK


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not positive")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kg", description="Build a knowledge graph from news articles, with the source of every fact.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="read articles and write the graph and its exports")
    build.add_argument("sources", nargs="*", type=Path, default=[Path("seeds")], help="files or folders of .txt, .md and .html articles (default: seeds/)")
    build.add_argument("-o", "--output", type=Path, default=Path("output"), help="output folder (default: output/)")
    build.add_argument("--base-iri", default=DEFAULT_BASE_IRI, help=f"base of minted IRIs (default: {DEFAULT_BASE_IRI})")
    build.add_argument("--entities", type=Path, help="CSV of known entities: name,type,aliases,wikidata")
    build.add_argument("--overrides", type=Path, help="CSV of same/different name pairs that override merging")
    build.add_argument("--timestamp", action="store_true", help="record the build time (output then differs per run)")
    build.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes parsing in parallel (default: the number of cores)")
    build.add_argument("--dask", metavar="ADDRESS", help="run the per-document stages on a Dask cluster (scheduler address, e.g. tcp://10.0.0.5:8786)")
    build.add_argument("--cache", type=Path, help="folder of cached extraction results (default: OUTPUT/.cache)")
    build.add_argument("--no-cache", action="store_true", help="parse every document afresh and keep no cache")
    build.add_argument("--encoding", default="utf-8", help="encoding of the input files (default: utf-8); offsets refer to the text as decoded")
    build.add_argument("--max-bytes", type=int, default=20_000_000, help="skip files larger than this (default: 20,000,000)")
    build.add_argument("--strict", action="store_true", help="fail, writing nothing, when any input is skipped")
    build.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")
    build.add_argument("--json", action="store_true", help="print a machine-readable summary")
    build.add_argument("--store", type=Path, help="where to write the SPARQL store (default: OUTPUT/store/)")
    build.set_defaults(run=_build)

    view = commands.add_parser("view", help="render a graph file as an interactive HTML page")
    view.add_argument("graph", type=Path, help="a graph written by kg build (.ttl, .trig, .nq, .jsonld)")
    view.add_argument("-o", "--output", type=Path, help="the page to write (default: beside the graph)")
    view.add_argument("--title", default="newskg graph")
    view.set_defaults(run=_view)

    check = commands.add_parser("validate", help="check a graph against the SHACL shapes (exit 3 when it does not conform)")
    check.add_argument("graph", nargs="?", type=Path, default=Path("output/graph.ttl"), help="a graph written by kg build (default: output/graph.ttl)")
    check.set_defaults(run=_validate)

    evaluation = commands.add_parser("eval", help="score a built graph against gold annotations (JSON Lines)")
    evaluation.add_argument("gold", type=Path, help="gold annotations, one JSON document per line (see README)")
    evaluation.add_argument("--graph", type=Path, default=Path("output"), help="a graph file or a build folder (default: output/)")
    evaluation.add_argument("--skip-implicit", action="store_true", help="leave out gold relations marked implicit")
    evaluation.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluation.set_defaults(run=_eval)

    store_help = "the store kg build writes (default: output/store/)"
    query = commands.add_parser("query", help="run a SPARQL query (SELECT, ASK, CONSTRUCT) over the graph's store")
    query.add_argument("query", metavar="QUERY_OR_FILE", help="SPARQL text, a .rq file (see queries/), or - for standard input")
    query.add_argument("--store", type=Path, default=DEFAULT_STORE, help=store_help)
    query.add_argument(
        "--format",
        choices=("table", "csv", "tsv", "json"),
        help="SPARQL results as an aligned table (default on a terminal), CSV (default otherwise), TSV or JSON; "
        "CONSTRUCT results as Turtle (table), N-Triples (csv, tsv) or JSON-LD (json)",
    )
    query.set_defaults(run=_query)

    serve = commands.add_parser("serve", help="serve the store as a read-only SPARQL endpoint over HTTP")
    serve.add_argument("--store", type=Path, default=DEFAULT_STORE, help=store_help)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=7878, help="port to listen on (default: 7878; 0 picks a free one)")
    serve.set_defaults(run=_serve)

    push = commands.add_parser("push", help="load the graph into a triple store (SPARQL 1.1 Graph Store Protocol)")
    push.add_argument("graph_file", metavar="GRAPH", nargs="?", type=Path, default=Path("output/graph.trig"), help="the graph to send (default: output/graph.trig)")
    push.add_argument("--endpoint", required=True, help="the store's Graph Store Protocol URL, e.g. http://localhost:7878/store")
    push.add_argument("--graph", metavar="IRI", help="put every triple into this named graph (default: each source's graph into the graph of the same name)")
    push.add_argument("--batch-size", type=_positive(int), default=10_000, help="triples per request (default: 10000)")
    push.add_argument("--replace", action="store_true", help="empty each graph in the store before loading it (PUT), instead of adding (POST)")
    push.add_argument("--timeout", type=_positive(float), default=60.0, help="seconds to wait for each request (default: 60)")
    push.set_defaults(run=_push)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


def run() -> NoReturn:
    """The ``kg`` command: ``main``, then the process ends."""
    code = main()
    # What the command made is left to the operating system, without the interpreter's last
    # cycle collection over it: a tenth of a second at the end of a large build.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
