"""Write the graph's files and the report: every file complete or not at all.

Each file is written to a temporary file in the output folder and renamed over the old
one, so an interrupted build never leaves a half-written graph.
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import cache
from operator import itemgetter
from pathlib import Path

import orjson
import pyoxigraph as ox

from kg import collector
from kg.graph import A, PREFIXES, Iris, RdfGraph, term
from kg.resolve import Resolution
from kg.types import Claim
from kg.vocab import data_file

XSD_STRING = term("xsd", "string")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


class OutputBusy(RuntimeError):
    """Another build is writing the same output folder."""


@contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` for a whole build: a second build into the same folder is
    refused at once, with the holder's process id, instead of interleaving its files."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise OutputBusy(f"{folder}/ is being written by another kg build (process {holder}); try again when it has finished") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    os.replace(_write_temporary(path, content), path)


@contextmanager
def staged_files(folder: Path) -> Iterator[Callable[[str, str | bytes], Path]]:
    """``stage(name, content)`` writes each file to a temporary name in ``folder`` as soon as
    it is rendered, so that only one is held in memory at a time, and returns that name
    (the file can be read from there until the block ends); when the block ends, all
    are renamed into place together, or on an error all are deleted and the folder's files
    stay as they were (a folder made for them goes too)."""
    made = not folder.exists()
    staged: dict[Path, Path] = {}

    def stage(name: str, content: str | bytes) -> Path:
        staged[folder / name] = _write_temporary(folder / name, content)
        return staged[folder / name]

    try:
        yield stage
        for path, temporary in staged.items():
            os.replace(temporary, path)
    except BaseException:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
        if made:
            with suppress(OSError):
                folder.rmdir()
        raise


def _write_temporary(path: Path, content: str | bytes) -> Path:
    """``content`` in a new temporary file beside ``path``, flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_UMASK)  # mkstemp makes files private; outputs are for sharing
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def turtle(graph: RdfGraph) -> bytes:
    return ox.serialize(graph.triples(), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def trig(graph: RdfGraph) -> bytes:
    return ox.serialize(graph.quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)


def nquads(graph: RdfGraph) -> bytes:
    return ox.serialize(graph.quads, format=ox.RdfFormat.N_QUADS)


@cache
def json_ld_context() -> dict[str, object]:
    """The published JSON-LD context, ``ontology/context.jsonld``: prefixes, and a term for
    each property with its value type (IRI, decimal, integer, boolean)."""
    context: dict[str, object] = json.loads(data_file("context.jsonld").read_text(encoding="utf-8"))["@context"]
    return context


@collector.paused()  # as in the build: the containers it piles up set the cycle collector scanning the graph (10-15% of the time)
def json_ld(graph: RdfGraph) -> bytes:
    """Compact JSON-LD with the published context inlined (the file stands alone, offline):
    one node object per subject, in IRI order, indented by two spaces.

    Written here rather than by rdflib's JSON-LD serializer, which takes about 14 s per
    million triples (pyld longer): the graph has no blank nodes, lists or nesting, so
    compacting it is choosing, for each value, the context's term whose type matches it
    (the tests read the file back with rdflib and pyoxigraph and compare it with the Turtle).
    orjson writes the text: a tenth of the time the json module takes.
    """
    compact = _Compactor(json_ld_context())
    nodes: dict[ox.NamedNode | ox.BlankNode, dict[str, object]] = {}
    several: dict[int, dict[str, object]] = {}  # nodes with more than one value under a key, each once
    subject, node = None, {}
    for quad in graph.quads:
        if quad.subject != subject:  # a subject's statements come together: one lookup per run of them
            subject = quad.subject
            node = nodes.setdefault(subject, {"@id": subject.value})
        key, value = compact.entry(quad.predicate, quad.object)
        held = node.get(key)
        if held is None:
            node[key] = value
        elif isinstance(held, list):  # values are strings and objects, never lists
            held.append(value)
        else:
            node[key] = [held, value]
            several[id(node)] = node
    for node in several.values():
        for key, values in node.items():
            if isinstance(values, list):
                unique = _in_json_order(values)
                node[key] = unique[0] if len(unique) == 1 else unique
    document = {"@context": json_ld_context(), "@graph": sorted(nodes.values(), key=itemgetter("@id"))}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _in_json_order(values: list[object]) -> list[object]:
    """Strings (IRIs, plain values) first, in order, then value objects by their JSON; each
    once: a triple stated in two graphs comes twice, and one value under one key is one triple."""
    strings = sorted({value for value in values if isinstance(value, str)})
    if len(strings) == len(values):  # the usual case: IRIs only, none twice
        return strings
    objects = {orjson.dumps(value, option=orjson.OPT_SORT_KEYS): value for value in values if not isinstance(value, str)}
    return [*strings, *(objects[text] for text in sorted(objects))]


class _Compactor:
    """The key and the JSON value of each RDF value under a JSON-LD context of prefixes
    and terms (``{"@id": ..., "@type": "@id" | datatype}``), as JSON-LD compaction picks them."""

    def __init__(self, context: dict[str, object]) -> None:
        self.prefixes = sorted(((iri, prefix) for prefix, iri in context.items() if isinstance(iri, str) and iri.endswith(("#", "/"))), reverse=True)
        self._compact_iris: dict[str, str] = {}  # many values repeat: each IRI is compacted once
        self.terms: dict[tuple[str, str | None], str] = {}  # (property IRI, value type) -> term
        for name, definition in context.items():
            iri, kind = (definition, None) if isinstance(definition, str) else (definition["@id"], definition.get("@type"))  # type: ignore[index,union-attr]
            if not name.endswith(("#", "/")) or kind is not None:
                self.terms[self.expand(iri), self.expand(kind) if kind not in (None, "@id") else kind] = name
        self._predicate_keys: dict[ox.NamedNode, tuple[str, str, str | None]] = {}  # a few dozen predicates, each looked up once

    def expand(self, name: str) -> str:
        prefix, _, local = name.partition(":")
        for iri, known in self.prefixes:
            if known == prefix and local:
                return iri + local
        return name

    def iri(self, iri: str) -> str:
        """``kgo:Claim`` for a prefixed IRI, else the IRI itself."""
        compact = self._compact_iris.get(iri)
        if compact is None:
            compact = self._compact_iris[iri] = next(
                (f"{prefix}:{iri[len(namespace):]}" for namespace, prefix in self.prefixes if iri.startswith(namespace) and iri[len(namespace) : len(namespace) + 1] not in ("", "/")),
                iri,
            )
        return compact

    def keys(self, predicate: ox.NamedNode) -> tuple[str, str, str | None]:
        """The predicate's IRI, its key for literals, and its key for IRIs when the context
        has a term for them (``@type`` for rdf:type)."""
        keys = self._predicate_keys.get(predicate)
        if keys is None:
            iri = predicate.value
            linked = "@type" if predicate == A else self.terms.get((iri, "@id"))
            keys = self._predicate_keys[predicate] = (iri, self.terms.get((iri, None)) or self.iri(iri), linked)
        return keys

    def entry(self, predicate: ox.NamedNode, value: ox.NamedNode | ox.Literal | ox.BlankNode) -> tuple[str, object]:
        iri, plain, linked = self.keys(predicate)
        if isinstance(value, ox.NamedNode):
            return (linked, self.iri(value.value)) if linked else (plain, {"@id": self.iri(value.value)})
        if not isinstance(value, ox.Literal):
            raise ValueError(f"unexpected RDF term {value}: newskg mints no blank nodes")
        if value.language:
            return plain, {"@language": value.language, "@value": value.value}
        datatype = value.datatype
        if datatype == XSD_STRING:
            return plain, value.value
        name = self.terms.get((iri, datatype.value))
        return (name, value.value) if name else (plain, {"@type": self.iri(datatype.value), "@value": value.value})


# Characters XML 1.0 cannot hold at all, not even escaped (control characters, lone surrogates).
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@collector.paused()  # the network and its XML tree: a third of the time went to scanning them
def graphml(resolution: Resolution, iris: Iris) -> bytes:
    """The entity network for Gephi and Cytoscape: entities as nodes (label, type, mentions,
    IRI), facts between two entities as edges (relation, number of sources that state it).
    Founding dates, whose object is a literal, are a node attribute. Nodes are numbered in
    IRI order and edges in fact order, so the same graph gives the same bytes."""
    # Imported here: a fifth of a second that every kg command importing this module paid,
    # and that a build paid before its workers could start loading spaCy.
    import networkx as nx

    network = nx.MultiDiGraph()
    node_ids: dict[str, str] = {}
    for entity in sorted(resolution.entities, key=lambda entity: iris.entity(entity.key).value):
        node_ids[entity.key] = f"n{len(node_ids)}"
        network.add_node(node_ids[entity.key], label=_xml_text(entity.label), type=entity.type, mentions=entity.mention_count, iri=iris.entity(entity.key).value)
    sources: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for claim in resolution.claims:
        sources[claim.fact].add(claim.doc_id)
    literals = {claim.fact: claim.literal for claim in resolution.claims if claim.object is None}
    edges = 0  # counted here: MultiDiGraph.number_of_edges() walks every edge each time
    for fact in sorted(sources):
        subject, relation, target = fact
        if fact in literals:  # several sources may give several years: keep each
            attributes = network.nodes[node_ids[subject]]
            attributes[relation] = "; ".join(filter(None, (attributes.get(relation), literals[fact])))
        else:
            network.add_edge(node_ids[subject], node_ids[target], key=f"e{edges}", relation=relation, sources=len(sources[fact]))
            edges += 1
    # Written through lxml: networkx's ElementTree writer took twice as long.
    written = io.BytesIO()
    nx.write_graphml_lxml(network, written, prettyprint=True)
    written.write(b"\n")
    return written.getvalue()


def _xml_text(text: str) -> str:
    return XML_INVALID.sub("\ufffd", text)


def report(resolution: Resolution, skipped: Sequence[tuple[str, str]] = ()) -> str:
    """A Markdown summary a reader can check the graph against."""
    entities = {entity.key: entity for entity in resolution.entities}
    titles = {document.id: document.title or document.id for document in resolution.documents}
    by_fact: dict[tuple[str, str, str], list[Claim]] = defaultdict(list)
    for claim in resolution.claims:
        by_fact[claim.fact].append(claim)

    def name(key: str) -> str:
        return entities[key].label if key in entities else key.strip('"')

    def fact_line(fact: tuple[str, str, str]) -> str:
        subject, relation, target = fact
        return f"{name(subject)} **{relation}** {name(target)}"

    lines = ["# newskg build report", ""]
    lines += [f"## Sources ({len(resolution.documents)})", ""]
    lines += [f"- `{document.id}` ({document.format}): {_cell(titles[document.id])}" for document in resolution.documents]
    if skipped:
        lines += ["", f"## Skipped files ({len(skipped)})", ""]
        lines += [f"- `{path}`: {reason}" for path, reason in skipped]
    types = Counter(entity.type for entity in resolution.entities)
    lines += ["", f"## Entities by type ({len(resolution.entities)})", "", "| type | entities |", "|---|---|"]
    lines += [f"| {kind} | {count} |" for kind, count in sorted(types.items())]
    relations = Counter(fact[1] for fact in by_fact)
    claims = Counter(claim.relation for claim in resolution.claims)
    lines += ["", f"## Facts by relation ({len(by_fact)} facts, {len(resolution.claims)} claims)", ""]
    lines += ["| relation | facts | claims |", "|---|---|---|"]
    lines += [f"| {relation} | {count} | {claims[relation]} |" for relation, count in sorted(relations.items())]
    single = sorted(fact for fact, group in by_fact.items() if len({c.doc_id for c in group}) == 1)
    lines += ["", f"## Facts with one source ({len(single)})", ""]
    lines += [f"- {fact_line(fact)} ({by_fact[fact][0].doc_id})" for fact in single] or ["None."]
    disputed = sorted(fact for fact, group in by_fact.items() if any(c.disputed_by for c in group))
    lines += ["", f"## Facts whose sources disagree ({len(disputed)})", ""]
    for fact in disputed:
        lines.append(f"- {fact_line(fact)}")
        for claim in sorted(by_fact[fact], key=lambda c: c.doc_id):
            lines.append(f"  - {claim.doc_id}: {_detail_text(claim)}")
    if not disputed:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _detail_text(claim: Claim) -> str:
    details = claim.details
    if details.amount is not None:
        approx = "approximately " if details.approximate else ""
        return f"{approx}{details.amount} {details.currency or ''}".rstrip()
    if details.undisclosed:
        return "amount undisclosed"
    return "no amount stated"


def _cell(text: str) -> str:
    return " ".join(text.split())


RDF_FILES: dict[str, Callable[[RdfGraph], bytes]] = {
    "graph.ttl": turtle,
    "graph.trig": trig,
    "graph.nq": nquads,
    "graph.jsonld": json_ld,
}
