"""Namespaces and the packaged ontology and rule files (everything the code knows is data)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from rdflib import Graph, Namespace

KGO = Namespace("https://w3id.org/newskg/ontology#")
KGR = Namespace("https://w3id.org/newskg/rules#")
OA = Namespace("http://www.w3.org/ns/oa#")
WD = Namespace("http://www.wikidata.org/entity/")

RELATIONS = (
    "investsIn",
    "partnersWith",
    "foundedBy",
    "foundingDate",
    "parentOrganization",
    "acquired",
    "worksFor",
    "develops",
    "produces",
    "memberOf",
)
LITERAL_RELATIONS = frozenset({"foundingDate"})
SYMMETRIC_RELATIONS = frozenset({"partnersWith"})


# The ontology, rules and word lists live beside the package, not inside it, so that users
# can read and tune them; newskg is installed editable from its source tree.
ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"


def data_file(*parts: str) -> Path:
    """A file of the ``ontology/`` folder."""
    return ONTOLOGY_DIR.joinpath(*parts)


@cache
def ontology() -> Graph:
    """The OWL ontology, parsed once: labels, comments, colours and shapes for the view."""
    graph = Graph()
    graph.parse(data=data_file("newskg.ttl").read_text(encoding="utf-8"), format="turtle")
    return graph


@cache
def relation_signatures() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Each relation's allowed subject and object types (local names), from the ontology's
    rdfs:domain and rdfs:range, so that a rule cannot make a film invest in a person."""
    from rdflib import OWL, RDFS, URIRef
    from rdflib.collection import Collection

    graph = ontology()

    def classes(node: object) -> frozenset[str]:
        if isinstance(node, URIRef):
            return frozenset({str(node).rsplit("#", 1)[-1]})
        union = graph.value(node, OWL.unionOf)  # type: ignore[arg-type]
        return frozenset(str(member).rsplit("#", 1)[-1] for member in Collection(graph, union)) if union else frozenset()

    return {
        relation: (classes(graph.value(KGO[relation], RDFS.domain)), classes(graph.value(KGO[relation], RDFS.range)))
        for relation in RELATIONS
    }
