"""The ``kg`` command: argv in, one API call per command, a summary out.

Exit codes: 0 ok, 1 error, 2 usage.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from kg.vocab import DEFAULT_BASE_IRI

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _build(args: argparse.Namespace) -> int:
    from kg import pipeline
    from kg.ingest import SourceError

    try:
        settings = pipeline.Settings(
            base_iri=args.base_iri,
            overrides=pipeline.load_overrides(args.overrides) if args.overrides else pipeline.Overrides(),
            known_entities=pipeline.load_known_entities(args.entities) if args.entities else (),
            timestamp=datetime.now(timezone.utc).replace(microsecond=0).isoformat() if args.timestamp else None,
        )
        bar = _progress_bar(quiet=args.quiet or args.json)
        graph = pipeline.build(args.sources, settings=settings, progress=bar.update if bar else None, on_documents=bar.reset if bar else None)
        if bar:
            bar.close()
        for path, reason in graph.skipped:
            print(f"warning: skipped {path}: {reason}", file=sys.stderr)
        written = graph.write(args.output)
    except (pipeline.BuildError, SourceError, OSError) as error:
        print(f"kg build: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    summary = graph.summary()
    if args.json:
        print(json.dumps({**summary, "output": str(args.output), "files": [str(p) for p in written]}, indent=2))
    elif not args.quiet:
        print(
            f"{summary['sources']} sources, {summary['entities']} entities, {summary['facts']} facts "
            f"({summary['claims']} claims), {summary['triples']} triples -> {args.output}/"
            + (f" ({len(graph.skipped)} files skipped)" if graph.skipped else "")
        )
    return EXIT_OK


def _progress_bar(quiet: bool):  # noqa: ANN202 - a tqdm bar or None
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=0, unit="doc", desc="reading", file=sys.stderr, leave=False)


def _view(args: argparse.Namespace) -> int:
    from rdflib import Dataset

    from kg.export import write_atomic
    from kg.view import render_html

    formats = {".ttl": "turtle", ".trig": "trig", ".nq": "nquads", ".nt": "nt", ".jsonld": "json-ld"}
    fmt = formats.get(args.graph.suffix)
    if fmt is None:
        print(f"kg view: error: {args.graph}: unknown graph format (use {', '.join(formats)})", file=sys.stderr)
        return EXIT_USAGE
    try:
        dataset = Dataset(default_union=True)
        dataset.parse(args.graph, format=fmt)
        output = args.output or args.graph.with_suffix(".html")
        write_atomic(output, render_html(dataset, title=args.title, html_dir=output.parent))
    except (OSError, ValueError, SyntaxError) as error:
        print(f"kg view: error: {args.graph}: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(output)
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
    build.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")
    build.add_argument("--json", action="store_true", help="print a machine-readable summary")
    build.set_defaults(run=_build)

    view = commands.add_parser("view", help="render a graph file as an interactive HTML page")
    view.add_argument("graph", type=Path, help="a graph written by kg build (.ttl, .trig, .nq, .jsonld)")
    view.add_argument("-o", "--output", type=Path, help="the page to write (default: beside the graph)")
    view.add_argument("--title", default="newskg graph")
    view.set_defaults(run=_view)

    evaluation = commands.add_parser("eval", help="score a built graph against gold annotations (JSON Lines)")
    evaluation.add_argument("gold", type=Path, help="gold annotations, one JSON document per line (see README)")
    evaluation.add_argument("--graph", type=Path, default=Path("output"), help="a graph file or a build folder (default: output/)")
    evaluation.add_argument("--skip-implicit", action="store_true", help="leave out gold relations marked implicit")
    evaluation.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluation.set_defaults(run=_eval)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
