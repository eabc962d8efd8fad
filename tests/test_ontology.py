"""The OWL ontology ``ontology/newskg.ttl``: it parses, and it defines what the contract needs."""
from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from kg.export import json_ld_context
from kg.graph import PREFIXES
from kg.types import ENTITY_TYPES
from kg.vocab import RELATIONS

ONTOLOGY_PATH = Path(__file__).resolve().parents[1] / "ontology" / "newskg.ttl"
ONTOLOGY_IRI = URIRef("https://w3id.org/newskg/ontology")
KGO = Namespace("https://w3id.org/newskg/ontology#")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
SCHEMA = Namespace("https://schema.org/")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
DCTERMS = Namespace("http://purl.org/dc/terms/")

# The relations of CONTRACT.md and their Wikidata alignment: (property id, inverse?).
CONTRACT_RELATIONS = {
    "investsIn": ("P1951", True),
    "partnersWith": ("P2652", False),
    "foundedBy": ("P112", False),
    "foundingDate": ("P571", False),
    "parentOrganization": ("P749", False),
    "acquired": ("P127", True),
    "worksFor": ("P108", False),
    "develops": ("P178", True),
    "produces": ("P272", True),
    "memberOf": ("P463", False),
}
ENTITY_CLASSES = ("Organization", "Person", "Product", "CreativeWork", "Place")
VIS_SHAPES = {"dot", "diamond", "square", "triangle", "star"}
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY_PATH, format="turtle")
    return g


def kgo_terms(graph: Graph) -> set[URIRef]:
    """Every kgo: IRI the file declares as a class or property."""
    return {
        s
        for t in TERM_TYPES
        for s in graph.subjects(RDF.type, t)
        if isinstance(s, URIRef) and str(s).startswith(str(KGO))
    }


def class_members(graph: Graph, node) -> set:
    """A class expression as a set of named classes: itself, or the members of its owl:unionOf."""
    if isinstance(node, BNode):
        union = graph.value(node, OWL.unionOf)
        assert union is not None, "an anonymous domain or range must be an owl:unionOf"
        assert (node, RDF.type, OWL.Class) in graph
        return set(Collection(graph, union))
    return {node}


def test_rdflib_and_pyoxigraph_read_the_same_triples(graph: Graph) -> None:
    oxi = list(pyoxigraph.parse(path=str(ONTOLOGY_PATH), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(graph) > 0
    assert len(oxi) == len(graph)


def test_ontology_header(graph: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph
    assert graph.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef("https://w3id.org/newskg/ontology/0.1.0")
    assert graph.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("0.1.0")
    for prop in (RDFS.label, RDFS.comment):
        values = list(graph.objects(ONTOLOGY_IRI, prop))
        assert len(values) == 1 and values[0].language == "en"
    assert isinstance(graph.value(ONTOLOGY_IRI, DCTERMS.license), URIRef)


def test_every_kgo_term_has_one_english_label_and_comment_and_is_defined_by(graph: Graph) -> None:
    terms = kgo_terms(graph)
    assert len(terms) > 40
    for term in terms:
        for prop in (RDFS.label, RDFS.comment):
            values = list(graph.objects(term, prop))
            assert len(values) == 1, f"{term} has {len(values)} {prop}"
            assert isinstance(values[0], Literal) and values[0].language == "en", (term, prop)
            assert str(values[0]).strip(), (term, prop)
        assert list(graph.objects(term, RDFS.isDefinedBy)) == [ONTOLOGY_IRI], term


def test_every_kgo_iri_used_is_declared(graph: Graph) -> None:
    """A typo such as kgo:Organisation in a domain would otherwise go unnoticed."""
    used = {
        node
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(str(KGO))
    }
    assert used - kgo_terms(graph) == set()


def test_each_kgo_term_has_exactly_one_kind(graph: Graph) -> None:
    for term in kgo_terms(graph):
        kinds = [t for t in TERM_TYPES if (term, RDF.type, t) in graph]
        assert len(kinds) == 1, (term, kinds)


def test_contract_relations_are_defined(graph: Graph) -> None:
    for name in CONTRACT_RELATIONS:
        kind = OWL.DatatypeProperty if name == "foundingDate" else OWL.ObjectProperty
        assert (KGO[name], RDF.type, kind) in graph, name


def test_relation_labels_are_lowercase_edge_labels(graph: Graph) -> None:
    for name in CONTRACT_RELATIONS:
        label = str(graph.value(KGO[name], RDFS.label))
        assert label == label.lower(), label
    assert graph.value(KGO.parentOrganization, RDFS.label) == Literal("part of", lang="en")
    assert graph.value(KGO.investsIn, RDFS.label) == Literal("invests in", lang="en")


def test_relations_are_aligned_with_wikidata_as_the_contract_says(graph: Graph) -> None:
    for name, (pid, inverse) in CONTRACT_RELATIONS.items():
        prop = KGO[name]
        close = {o for o in graph.objects(prop, SKOS.closeMatch) if str(o).startswith(str(WDT))}
        inverse_of = set(graph.objects(prop, KGO.inverseOfWikidata))
        if inverse:
            assert inverse_of == {WDT[pid]} and close == set(), name
        else:
            assert close == {WDT[pid]} and inverse_of == set(), name
        assert (prop, OWL.equivalentProperty, None) not in graph


def test_schema_org_alignment(graph: Graph) -> None:
    assert (KGO.parentOrganization, RDFS.subPropertyOf, SCHEMA.parentOrganization) in graph
    assert (KGO.worksFor, RDFS.subPropertyOf, SCHEMA.worksFor) in graph
    assert (KGO.memberOf, RDFS.subPropertyOf, SCHEMA.memberOf) in graph
    assert (KGO.foundedBy, SKOS.closeMatch, SCHEMA.founder) in graph
    assert (KGO.foundingDate, SKOS.closeMatch, SCHEMA.foundingDate) in graph
    assert (KGO.produces, KGO.inverseCloseMatch, SCHEMA.productionCompany) in graph
    assert (KGO.mentionedIn, SKOS.closeMatch, SCHEMA.subjectOf) in graph


def test_symmetric_properties(graph: Graph) -> None:
    symmetric = set(graph.subjects(RDF.type, OWL.SymmetricProperty))
    assert symmetric == {KGO.partnersWith, KGO.corroboratedBy, KGO.disputedBy}


def test_class_hierarchy(graph: Graph) -> None:
    assert (KGO.Claim, RDFS.subClassOf, RDF.Statement) in graph
    assert (KGO.Claim, RDFS.subClassOf, PROV.Entity) in graph
    assert (KGO.Source, RDFS.subClassOf, PROV.Entity) in graph
    assert (KGO.Evidence, RDFS.subClassOf, OA.TextQuoteSelector) in graph
    assert (KGO.Evidence, RDFS.subClassOf, OA.TextPositionSelector) in graph
    assert (KGO.Build, RDFS.subClassOf, PROV.Activity) in graph
    for name in ENTITY_CLASSES:
        assert (KGO[name], RDFS.subClassOf, KGO.Entity) in graph
        assert (KGO[name], RDFS.subClassOf, SCHEMA[name]) in graph


def test_every_kgo_property_has_a_domain_and_a_range_of_the_right_kind(graph: Graph) -> None:
    classes = set(graph.subjects(RDF.type, OWL.Class))
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in graph.subjects(RDF.type, kind):
            domains = list(graph.objects(prop, RDFS.domain))
            ranges = list(graph.objects(prop, RDFS.range))
            assert len(domains) == 1 and len(ranges) == 1, prop
            assert class_members(graph, domains[0]) <= classes, prop
            if kind == OWL.ObjectProperty:
                assert class_members(graph, ranges[0]) <= classes, prop
            else:
                assert ranges[0] == RDFS.Literal or str(ranges[0]).startswith(str(XSD)), prop


def test_relation_colours_and_entity_shapes_for_the_view(graph: Graph) -> None:
    hex_colour = re.compile(r"^#[0-9a-f]{6}$")
    relation_colours = [str(graph.value(KGO[name], KGO.color)) for name in CONTRACT_RELATIONS]
    assert all(hex_colour.match(c) for c in relation_colours), relation_colours
    assert len(set(relation_colours)) == len(relation_colours)
    class_colours = [str(graph.value(KGO[name], KGO.color)) for name in ENTITY_CLASSES]
    assert all(hex_colour.match(c) for c in class_colours), class_colours
    assert len(set(class_colours)) == len(class_colours)
    shapes = [str(graph.value(KGO[name], KGO.shape)) for name in ENTITY_CLASSES]
    assert set(shapes) <= VIS_SHAPES and len(set(shapes)) == len(shapes)
    # Only the entity classes carry a shape, so the legend lists exactly them.
    assert set(graph.subjects(KGO.shape, None)) == {KGO[name] for name in ENTITY_CLASSES}


def test_claim_qualifier_datatypes(graph: Graph) -> None:
    expected = {
        "confidence": XSD.decimal,
        "amount": XSD.decimal,
        "currency": XSD.string,
        "approximate": XSD.boolean,
        "undisclosed": XSD.boolean,
        "hedged": XSD.boolean,
        "role": XSD.string,
        "mentionCount": XSD.nonNegativeInteger,
        "reliability": XSD.decimal,
    }
    for name, datatype in expected.items():
        assert (KGO[name], RDF.type, OWL.DatatypeProperty) in graph, name
        assert graph.value(KGO[name], RDFS.range) == datatype, name


def test_prov_and_web_annotation_alignment(graph: Graph) -> None:
    assert (KGO.ExtractionPattern, RDFS.subClassOf, PROV.Plan) in graph
    assert (KGO.reportedBy, SKOS.closeMatch, PROV.wasAttributedTo) in graph
    assert (KGO.inSource, SKOS.closeMatch, OA.hasSource) in graph
    assert (KGO.Source, SKOS.closeMatch, SCHEMA.NewsArticle) in graph


# --- the code and the other files of ontology/ stay in step with this file -------------------

KG_SOURCES = Path(__file__).resolve().parents[1] / "kg"
KGO_IN_CODE = re.compile(r"""KGO(?:\.(\w+)|\[["'](\w+)["']\])""")


def test_every_kgo_term_the_code_names_is_defined(graph: Graph) -> None:
    """KGO.x and KGO["x"] in kg/, and the names the code builds KGO[...] from."""
    named = {m.group(1) or m.group(2) for path in KG_SOURCES.rglob("*.py") for m in KGO_IN_CODE.finditer(path.read_text(encoding="utf-8"))}
    assert "Claim" in named and "confidence" in named  # the pattern finds what it should
    names = named | set(RELATIONS) | set(ENTITY_TYPES)
    assert {KGO[name] for name in names} - kgo_terms(graph) == set()


def test_the_json_ld_context_gives_every_kgo_property_a_term_with_its_value_type(graph: Graph) -> None:
    context = json_ld_context()
    assert {prefix: context.get(prefix) for prefix in PREFIXES} == {prefix: str(iri) for prefix, iri in PREFIXES.items()}
    terms = {(value["@id"] if isinstance(value, dict) else value): value for value in context.values()}
    coerced = {XSD.decimal: "xsd:decimal", XSD.boolean: "xsd:boolean", XSD.nonNegativeInteger: "xsd:nonNegativeInteger"}
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in graph.subjects(RDF.type, kind):
            name = str(prop).removeprefix(str(KGO))
            term = terms.get(f"kgo:{name}")
            assert term is not None and context[name] == term, name  # the term is the local name
            expected = "@id" if kind == OWL.ObjectProperty else coerced.get(graph.value(prop, RDFS.range))  # type: ignore[arg-type]
            assert (term.get("@type") if isinstance(term, dict) else None) == expected, name


SHAPES_PATH = ONTOLOGY_PATH.with_name("shapes.ttl")
SH = Namespace("http://www.w3.org/ns/shacl#")
KGSH = Namespace("https://w3id.org/newskg/shapes#")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_PATH, format="turtle")


def test_shapes_are_named_and_every_property_shape_says_what_it_wants(shapes: Graph) -> None:
    oxi = list(pyoxigraph.parse(path=str(SHAPES_PATH), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(oxi) == len(shapes)
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    property_shapes = set(shapes.objects(None, SH.property))
    assert len(node_shapes) >= 8 and len(property_shapes) >= 40
    assert all(isinstance(shape, URIRef) and str(shape).startswith(str(KGSH)) for shape in node_shapes | property_shapes)
    for shape in property_shapes:
        assert (shape, RDF.type, SH.PropertyShape) in shapes, shape
        assert shapes.value(shape, SH.message) is not None, shape


def test_the_shapes_know_the_ten_relations_and_the_five_entity_types(shapes: Graph) -> None:
    relations = Collection(shapes, shapes.value(KGSH.ClaimPredicate, SH["in"]))
    assert [str(r).removeprefix(str(KGO)) for r in relations] == list(RELATIONS)
    types = Collection(shapes, shapes.value(KGSH.EntityType, SH["in"]))
    assert [str(t).removeprefix(str(KGO)) for t in types] == list(ENTITY_TYPES)
    assert {str(c).removeprefix(str(KGO)) for c in shapes.objects(KGSH.EntityShape, SH.targetClass)} == set(ENTITY_TYPES)
