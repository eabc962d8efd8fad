"""Write the dataset and the report: every file complete or not at all.

Each file is written to a temporary file in the output folder and renamed over the old
one, so an interrupted build never leaves a half-written graph.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from functools import cache, cached_property
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD, Dataset, Graph, Literal, URIRef
from rdflib.namespace import PROV
from rdflib.term import Node

from kg.resolve import Resolution
from kg.types import ENTITY_TYPES, Claim
from kg.vocab import KGO, RELATIONS, data_file


# rdflib's parser for each graph file kg build writes, by suffix (JSON-LD expands its inlined context).
GRAPH_FORMATS = {".ttl": "turtle", ".trig": "trig", ".nq": "nquads", ".nt": "nt", ".jsonld": "json-ld"}


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
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_UMASK)  # mkstemp makes files private; outputs are for sharing
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _sort_key(term: Node) -> tuple[int, str]:
    return (0, "") if term == RDF.type else (1, term.n3())


Quad = tuple[Node, Node, Node, Node]


class OrderedDataset:
    """A built dataset prepared once for every export: its quads sorted (default graph
    first, then by graph, subject, predicate with rdf:type first, and object, so the same
    graph always gives the same bytes), and its union as one graph."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        default = dataset.default_graph.identifier

        def key(quad: Quad) -> tuple[object, ...]:
            s, p, o, g = quad
            return (g != default, g.n3(), s.n3(), _sort_key(p), o.n3())

        quads = ((s, p, o, g.identifier if isinstance(g, Graph) else g) for s, p, o, g in dataset.quads((None, None, None, None)))
        self.quads: list[Quad] = sorted(quads, key=key)
        self.default = default

    @cached_property
    def triples(self) -> list[tuple[Node, Node, Node]]:
        """Every distinct triple of every graph, by subject, predicate (rdf:type first) and
        object: the order of the Turtle file."""
        unique = {(s, p, o) for s, p, o, _ in self.quads}
        return sorted(unique, key=lambda t: (t[0].n3(), _sort_key(t[1]), t[2].n3()))

    @cached_property
    def union(self) -> Graph:
        """Every triple of every named graph in one graph, added in sorted order."""
        graph = Graph()
        for prefix, namespace in self.dataset.namespaces():
            graph.bind(prefix, namespace, replace=True)
        for triple in self.triples:
            graph.add(triple)
        return graph

    @cached_property
    def oxigraph_quads(self) -> list[ox.Quad]:
        return [
            ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), ox.DefaultGraph() if g == self.default else ox.NamedNode(str(g)))
            for s, p, o, g in self.quads
        ]

    @property
    def prefixes(self) -> dict[str, str]:
        return {prefix: str(namespace) for prefix, namespace in sorted(self.dataset.namespaces()) if prefix}


def union_graph(dataset: Dataset) -> Graph:
    """Every triple of every named graph in one graph, added in sorted order."""
    return OrderedDataset(dataset).union


def _ox_term(term: Node) -> ox.NamedNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    raise ValueError(f"unexpected RDF term {term!r}: newskg mints no blank nodes")


def turtle(ordered: OrderedDataset) -> bytes:
    triples = [ox.Triple(_ox_term(s), _ox_term(p), _ox_term(o)) for s, p, o in ordered.triples]
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=ordered.prefixes)


def trig(ordered: OrderedDataset) -> bytes:
    return ox.serialize(ordered.oxigraph_quads, format=ox.RdfFormat.TRIG, prefixes=ordered.prefixes)


def nquads(ordered: OrderedDataset) -> bytes:
    return ox.serialize(ordered.oxigraph_quads, format=ox.RdfFormat.N_QUADS)


@cache
def json_ld_context() -> dict[str, object]:
    """The published JSON-LD context, ``ontology/context.jsonld``: prefixes, and a term for
    each property with its value type (IRI, decimal, integer, boolean)."""
    context: dict[str, object] = json.loads(data_file("context.jsonld").read_text(encoding="utf-8"))["@context"]
    return context


def json_ld(ordered: OrderedDataset) -> str:
    """Compact JSON-LD with the published context inlined (the file stands alone, offline);
    nodes and values sorted, since rdflib's writer follows its store's order, which
    differs between runs."""
    graph = ordered.union
    document = json.loads(graph.serialize(format="json-ld", context=json_ld_context()))
    nodes = document.get("@graph", [])
    for node in nodes:
        for value in node.values():
            if isinstance(value, list):
                value.sort(key=lambda item: json.dumps(item, sort_keys=True))
    nodes.sort(key=lambda node: node.get("@id", ""))
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# Characters XML 1.0 cannot hold at all, not even escaped (control characters, lone surrogates).
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def graphml(ordered: OrderedDataset) -> bytes:
    """The entity network for Gephi and Cytoscape: entities as nodes (label, type, mentions,
    IRI), facts between two entities as edges (relation, number of sources that state it).
    Founding dates, whose object is a literal, are a node attribute. Nodes and edges are
    numbered in IRI order, so the same graph gives the same bytes."""
    graph = ordered.union
    network = nx.MultiDiGraph()
    node_ids: dict[Node, str] = {}
    types = {KGO[name]: name for name in ENTITY_TYPES}
    for entity, kind in sorted(((s, types[o]) for s, o in graph.subject_objects(RDF.type) if o in types), key=lambda pair: pair[0]):
        node_ids[entity] = f"n{len(node_ids)}"
        mentions = graph.value(entity, KGO.mentionCount)
        network.add_node(
            node_ids[entity],
            label=_xml_text(str(graph.value(entity, RDFS.label) or "")),
            type=kind,
            mentions=int(mentions) if mentions is not None else 0,
            iri=str(entity),
        )
    sources = _sources_by_fact(graph)
    facts = sorted(
        (triple for relation in RELATIONS for triple in graph.triples((None, KGO[relation], None))),
        key=lambda triple: tuple(term.n3() for term in triple),
    )
    edges = 0  # counted here: MultiDiGraph.number_of_edges() walks every edge each time
    for subject, predicate, target in facts:
        relation = predicate.removeprefix(str(KGO))
        if isinstance(target, Literal):  # several sources may give several years: keep each
            attributes = network.nodes[node_ids[subject]]
            attributes[relation] = "; ".join(filter(None, (attributes.get(relation), str(target))))
        else:
            count = len(sources[subject, predicate, target])
            network.add_edge(node_ids[subject], node_ids[target], key=f"e{edges}", relation=relation, sources=count)
            edges += 1
    return ("\n".join(nx.generate_graphml(network, prettyprint=True)) + "\n").encode("utf-8")


def _sources_by_fact(graph: Graph) -> dict[tuple[Node, Node, Node], set[Node]]:
    sources: dict[tuple[Node, Node, Node], set[Node]] = defaultdict(set)
    for claim in graph.subjects(RDF.type, KGO.Claim):
        fact = (graph.value(claim, RDF.subject), graph.value(claim, RDF.predicate), graph.value(claim, RDF.object))
        sources[fact].update(graph.objects(claim, PROV.wasDerivedFrom))  # type: ignore[index]
    return sources


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


EXPORTS: dict[str, Callable[[OrderedDataset], str | bytes]] = {
    "graph.ttl": turtle,
    "graph.trig": trig,
    "graph.nq": nquads,
    "graph.jsonld": json_ld,
    "graph.graphml": graphml,
}
