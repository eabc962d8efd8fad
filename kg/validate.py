"""Check a graph against the SHACL shapes of ``ontology/shapes.ttl``.

Validation runs on pyshacl-turbo, a Rust SHACL engine behind pySHACL's own API: on a
corpus of a few hundred articles it takes half a second where pySHACL takes a quarter of
a minute. The tests hold it to pySHACL's findings on every kind of broken graph.

The graph is checked as one graph: claims in a source's named graph point at entities and
at the build in the default graph, and pySHACL would check each named graph on its own.
It reaches the engine as N-Triples or N-Quads text, which pyoxigraph writes and the engine
parses in Rust; handing it an rdflib graph would cost more than the validation itself.

A rebuild checks less than the whole graph (``check_nquads``): when the graph the last build
wrote, which conformed, is at hand, only the nodes whose checks can come out otherwise are
checked, on the statements those checks read. Which statements those are follows from what
the shapes look at: a node's own statements, the types of the nodes it names by a property
whose values' class a shape checks, the statements naming it by a ``sh:targetObjectsOf``
property, and, for a claim, the fact it states. The
shapes are pinned (``FOCUSED_SHAPES``): edited shapes are checked whole until someone has
made sure that this still holds and updated the pin.
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.graph import LABEL, RdfGraph
from kg.store import line_changes
from kg.vocab import data_file


@dataclass(frozen=True, slots=True)
class Violation:
    """One result of the validation, in words: which node, which property, what is wrong."""

    focus: str  # the node's rdfs:label when it has one, else its IRI
    path: str  # the property, as a prefixed name when a prefix is bound ("" for node-level checks)
    message: str
    severity: str  # "Violation", "Warning" or "Info"
    value: str = ""  # the offending value, when there is one ("1.5" for a confidence of 1.5)

    def __str__(self) -> str:
        where = " ".join(filter(None, (self.focus, self.path, self.value)))
        return f"{self.severity}: {where}: {self.message}"


class NonConformingGraph(ValueError):
    """A graph that breaks the shapes; carries every violation."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__(f"the graph does not conform to {SHAPES_FILE.name} ({len(violations)} violations)")


SHAPES_FILE: Path = data_file("shapes.ttl")
# The SHA-256 of the shapes file whose checks read only the statements the module docstring
# lists; see there before changing it.
FOCUSED_SHAPES = "8994df310e48dd505ab10c8c649415de13e87c9e4597322b28fb21973accc98c"


@dataclass(frozen=True, slots=True)
class Conforming:
    """An N-Quads file an earlier check found to conform, and its SHA-256 digest then (a
    file changed since is not trusted)."""

    path: Path
    sha256: str


@cache
def shapes() -> Graph:
    """The shapes, parsed once per process."""
    return Graph().parse(SHAPES_FILE, format="turtle")


@cache
def compiled_shapes() -> object:
    from pyshacl_turbo import compile_shapes  # slow to import; only validation needs it

    # "advanced" turns on the SPARQL targets of the two checks SHACL Core cannot express
    # (see shapes.ttl). No inference: the shapes check what the graph states.
    return compile_shapes(shapes(), advanced=True)


def load_shapes() -> None:
    """Compile the shapes now (a quarter of a second), ahead of the first check."""
    compiled_shapes()


def shacl_report(graph: RdfGraph) -> Graph:
    """The SHACL validation report of ``graph`` against the shapes."""
    return _report(ox.serialize(graph.triples(), format=ox.RdfFormat.N_TRIPLES), "nt")


def _report(text: bytes, syntax: str, focus: Iterable[str] | None = None) -> Graph:
    """The report on a graph in N-Triples ("nt") or N-Quads ("nquads", its graphs as one),
    of every node, or of the ``focus`` nodes only."""
    # pyshacl-turbo reads serialized data through this record of its own (its public entry
    # points would first decode the text into an rdflib graph, slower than the validation).
    from pyshacl_turbo.rdf import Input

    nodes = None if focus is None else [URIRef(iri) for iri in focus]
    data = Input(text.decode("utf-8"), syntax, None, {})
    del text  # the engine reads the decoded copy: the bytes, as large, need not wait for it
    _, report, _ = compiled_shapes().validate(data, allow_warnings=True, focus_nodes=nodes)  # type: ignore[attr-defined]
    return report  # type: ignore[no-any-return]


def validate(graph: RdfGraph) -> list[Violation]:
    """Every violation of the shapes in ``graph``, sorted; an empty list means it conforms."""
    report = shacl_report(graph)
    return _violations(report, lambda: ((t.subject.value, t.object.value) for t in graph.triples() if t.predicate == LABEL))


def check_nquads(nquads: Path, previous: Conforming | None = None) -> list[Violation]:
    """Every violation of the shapes in the graph of an N-Quads file (its named graphs as
    one graph), sorted, as ``validate`` finds them. Given the file of a graph that conformed
    (``previous``), only what differs from it is checked (see the module docstring)."""
    focused = _focused(Path(nquads).read_bytes(), previous) if previous is not None else None
    if focused is None:  # (the file is read again for the labels of what breaks the shapes)
        report = _report(Path(nquads).read_bytes(), "nquads")
        return _violations(report, lambda: _labels(Path(nquads).read_bytes().splitlines()))
    statements, focus = focused
    return _violations(_report(statements, "nquads", focus), lambda: _labels(statements.splitlines()))


def _violations(report: Graph, labels: Callable[[], Iterable[tuple[str, str]]]) -> list[Violation]:
    """The report's results as violations, sorted; ``labels`` names the nodes (IRI, label)."""
    results = list(report.subjects(SH.focusNode, None))
    if not results:
        return []
    named = dict(labels())
    violations = [_violation(named, report, result) for result in results]
    return sorted(set(violations), key=lambda v: (v.focus, v.path, v.message))


def _nquads_term(iri: Node | str) -> bytes:
    return b"<" + str(iri).encode() + b">"


def _labels(lines: list[bytes]) -> Iterator[tuple[str, str]]:
    marked = b" " + _nquads_term(LABEL.value) + b" "
    for quad in ox.parse(b"\n".join(line for line in lines if marked in line), format=ox.RdfFormat.N_QUADS):
        yield quad.subject.value, quad.object.value


_TYPE = _nquads_term(RDF.type)
_REIFIED = tuple(_nquads_term(RDF[name]) for name in ("subject", "predicate", "object"))


def _focused(text: bytes, previous: Conforming) -> tuple[bytes, set[str]] | None:
    """The statements the checks of the nodes that may no longer conform read, in N-Quads,
    and those nodes; None when only a whole check will do (the shapes or the previous file
    are not the ones trusted, or a blank node makes lines unfit to compare)."""
    targets_objects, typed_values = _targets_objects_of(), _typed_values()
    if typed_values is None or hashlib.sha256(SHAPES_FILE.read_bytes()).hexdigest() != FOCUSED_SHAPES:
        return None
    try:
        before = Path(previous.path).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(before).hexdigest() != previous.sha256 or b"_:" in text or b"_:" in before:
        return None
    lines = text.splitlines()
    focus: set[bytes] = set()
    retyped: set[bytes] = set()
    facts: set[tuple[bytes, bytes, bytes]] = set()
    for line in itertools.chain(*line_changes(before.splitlines(), lines)):
        subject, predicate, value = _terms(line)
        focus.add(subject)
        if predicate == _TYPE:
            retyped.add(subject)
        if value is not None:
            facts.add((subject, predicate, value))
            if predicate in targets_objects:
                focus.add(value)
    # One pass over the graph: each node's statements and types, and who names a node whose
    # type changed, or states a fact that changed, or names a node by a targetObjectsOf property.
    statements: dict[bytes, list[bytes]] = {}
    types: dict[bytes, list[tuple[bytes, bytes]]] = {}  # (class, statement) of each node
    naming: list[tuple[bytes, bytes]] = []
    reified: dict[bytes, list[bytes | None]] = {}
    for line in lines:
        subject, predicate, value = _terms(line)
        statements.setdefault(subject, []).append(line)
        if value is None:
            continue
        if predicate == _TYPE:
            types.setdefault(subject, []).append((value, line))
        if value in retyped:
            focus.add(subject)
        if predicate in targets_objects:
            naming.append((value, line))
        if predicate in _REIFIED:
            reified.setdefault(subject, [None, None, None])[_REIFIED.index(predicate)] = value
    focus.update(claim for claim, fact in reified.items() if tuple(fact) in facts)
    read: dict[bytes, None] = {}  # the statements to check them on, in order, each once
    for node in focus:
        for line in statements.get(node, ()):
            read[line] = None
            _, predicate, value = _terms(line)
            if value is not None and predicate in typed_values:
                asked = typed_values[predicate]
                read.update(dict.fromkeys(typing for kind, typing in types.get(value, ()) if asked is None or kind in asked))
    stated = {tuple(reified[node]) for node in focus if node in reified}
    for subject in {fact[0] for fact in stated if fact[0] is not None}:
        read.update(dict.fromkeys(line for line in statements.get(subject, ()) if (subject, *_terms(line)[1:]) in stated))
    read.update(dict.fromkeys(line for value, line in naming if value in focus))
    return b"\n".join(read) + b"\n", {node.decode("utf-8")[1:-1] for node in focus}


def _terms(line: bytes) -> tuple[bytes, bytes, bytes | None]:
    """An N-Quads line's subject, predicate and object, the object only when it is an IRI."""
    subject, predicate, rest = line.split(b" ", 2)
    return subject, predicate, rest[: rest.index(b">") + 1] if rest.startswith(b"<") else None


@cache
def _targets_objects_of() -> frozenset[bytes]:
    return frozenset(_nquads_term(p) for p in shapes().objects(None, SH.targetObjectsOf))


@cache
def _typed_values() -> dict[bytes, frozenset[bytes] | None] | None:
    """The properties whose values' types a check reads, each with the classes it asks about
    (the ``sh:class`` of its path) or None for every type (a path (p rdf:type)). None when a
    path reads more than that."""
    graph = shapes()
    steps = [list(Collection(graph, path)) for path in graph.objects(None, SH.path) if not isinstance(path, URIRef)]
    if any(len(step) != 2 or step[1] != RDF.type or not isinstance(step[0], URIRef) for step in steps):
        return None
    classes: dict[bytes, set[bytes]] = {}
    for shape, kind in graph.subject_objects(SH["class"]):
        path = graph.value(shape, SH.path)
        if not isinstance(path, URIRef):
            return None
        classes.setdefault(_nquads_term(path), set()).add(_nquads_term(kind))
    typed: dict[bytes, frozenset[bytes] | None] = {predicate: frozenset(kinds) for predicate, kinds in classes.items()}
    typed.update((_nquads_term(step[0]), None) for step in steps)
    return typed


def conforms(violations: list[Violation]) -> bool:
    """True when nothing of severity Violation was found (warnings and infos pass)."""
    return not any(violation.severity == "Violation" for violation in violations)


def _violation(labels: dict[str, str], report: Graph, result: Node) -> Violation:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
    severity = report.value(result, SH.resultSeverity)
    value = report.value(result, SH.value)
    return Violation(
        focus=_name(labels, focus),
        path=_short(path) if isinstance(path, URIRef) else "",
        message="; ".join(messages) or "does not conform",
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        value=_value(value) if value is not None and value != focus else "",
    )


def _name(labels: dict[str, str], node: Node | None) -> str:
    if isinstance(node, URIRef) and str(node) in labels:
        return f'"{labels[str(node)]}"'
    return str(node) if isinstance(node, URIRef) else repr(str(node))


def _value(node: Node) -> str:
    """A value as it would read in Turtle: a prefixed name, an <IRI> or a quoted literal."""
    if isinstance(node, URIRef):
        return _short(node)
    return f'"{node}"' if isinstance(node, Literal) and node.datatype is None else str(node)


def _short(iri: URIRef) -> str:
    """``prefix:name`` with the prefixes of the shapes file, whose names the messages use
    (not the data's: a file may bind kgo: as ns1: or not at all)."""
    for prefix, namespace in sorted(shapes().namespaces(), key=lambda item: (-len(item[1]), item[0])):
        local = iri[len(namespace) :]
        if prefix and iri.startswith(namespace) and local.replace("_", "a").isalnum():
            return f"{prefix}:{local}"
    return f"<{iri}>"
