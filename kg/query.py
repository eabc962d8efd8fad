"""SPARQL over the embedded store: read a query, run it, write its results.

Every query sees the default graph as the union of all graphs (each source's claims live in
a named graph of its own) and may use the graph's prefixes without declaring them.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.store import PREFIXES

Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

FORMATS = ("table", "csv", "tsv", "json")
QUERY_SUFFIXES = (".rq", ".sparql")
_RESULTS_FORMATS = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV, "json": ox.QueryResultsFormat.JSON}
# CONSTRUCT and DESCRIBE give triples: Turtle to read, N-Triples (one per line) to pipe, JSON-LD for JSON.
_GRAPH_FORMATS = {"table": ox.RdfFormat.TURTLE, "csv": ox.RdfFormat.N_TRIPLES, "tsv": ox.RdfFormat.N_TRIPLES, "json": ox.RdfFormat.JSON_LD}
_POSITION = re.compile(r"error at (\d+):(\d+): ", re.DOTALL)


class QuerySyntaxError(ValueError):
    """A query that does not parse, with the line and column (1-based) the parser stopped at."""

    def __init__(self, reason: str, line: int, column: int, query: str) -> None:
        self.reason, self.line, self.column = reason, line, column
        lines = query.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        pointer = f"\n  {source}\n  {' ' * (column - 1)}^" if source else ""
        super().__init__(f"syntax error at line {line}, column {column}: {reason}{pointer}")


def read_query(query_or_file: str) -> str:
    """The query text: the content of a file when the argument names one, else the argument."""
    path = Path(query_or_file)
    if path.suffix in QUERY_SUFFIXES or _is_file(path):
        return path.read_text(encoding="utf-8")
    return query_or_file


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a query too long, or with a NUL, to be a file name
        return False


def run(store: ox.Store, query: str, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()) -> Result:
    """Run a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE) over every graph, or over
    the graphs the SPARQL protocol's default-graph-uri and named-graph-uri name."""
    try:
        return store.query(
            query,
            prefixes=PREFIXES,
            use_default_graph_as_union=not default_graphs,
            default_graph=[ox.NamedNode(iri) for iri in default_graphs] or None,
            named_graphs=[ox.NamedNode(iri) for iri in named_graphs] or None,
        )
    except SyntaxError as error:
        raise syntax_error(error, query) from None


def syntax_error(error: SyntaxError, query: str) -> QuerySyntaxError:
    message = " ".join(str(error).split())
    match = _POSITION.match(message)
    if match is None:
        return QuerySyntaxError(message, 0, 0, query)
    return QuerySyntaxError(message[match.end() :], int(match[1]), int(match[2]), query)


def render(result: Result, format: str) -> bytes:
    """``result`` as ``format`` (one of FORMATS): an aligned table, or a standard format."""
    if isinstance(result, ox.QueryTriples):
        triples = sorted(result, key=str)  # engines return triples in no set order
        prefixes = _used_prefixes(triples) if format == "table" else None
        return ox.serialize(triples, format=_GRAPH_FORMATS[format], prefixes=prefixes)
    if format == "table":
        return (str(bool(result)).lower() + "\n" if isinstance(result, ox.QueryBoolean) else table(result)).encode("utf-8")
    output = result.serialize(format=_RESULTS_FORMATS[format])
    return output if output.endswith(b"\n") else output + b"\n"


def _used_prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    text = "".join(map(str, triples))
    return {prefix: namespace for prefix, namespace in PREFIXES.items() if namespace in text}


def table(solutions: ox.QuerySolutions) -> str:
    """Solutions as columns aligned for a terminal, with a row count."""
    names = [variable.value for variable in solutions.variables]
    rows = [[display(solution[name]) for name in names] for solution in solutions]
    widths = [max([_width(name), *(_width(row[i]) for row in rows)]) for i, name in enumerate(names)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths)).rstrip()

    lines = [line(names), line(["-" * width for width in widths]), *(line(row) for row in rows)]
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(lines) + "\n"


def display(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    """A term as a reader wants it: a literal's text on one line, an IRI with a known prefix."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return " ".join(term.value.split())
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    return str(term)


def compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        local = iri.removeprefix(namespace)
        if local != iri and re.fullmatch(r"[A-Za-z_][\w-]*", local):
            return f"{prefix}:{local}"
    return f"<{iri}>"


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
