"""Each pattern family on sentences about companies that are not in the seeds: the exact
triple, its direction and its details, through the whole pipeline."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from rdflib import RDF, RDFS, Literal

from kg.pipeline import KnowledgeGraph
from kg.vocab import KGO

Fact = tuple[str, str, str]


def facts(graph: KnowledgeGraph) -> set[Fact]:
    """(subject label, relation, object label or literal) for every claim."""
    g = graph.graph
    found = set()
    for claim in g.subjects(RDF.type, KGO.Claim):
        subject, predicate, obj = (g.value(claim, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        target = str(obj) if isinstance(obj, Literal) else str(g.value(obj, RDFS.label))
        found.add((str(g.value(subject, RDFS.label)), str(predicate).rsplit("#", 1)[1], target))
    return found


def claim_details(graph: KnowledgeGraph, relation: str) -> dict[str, object]:
    g = graph.graph
    (claim,) = [c for c in g.subjects(RDF.predicate, KGO[relation])]
    details: dict[str, object] = {}
    for prop in ("amount", "currency", "approximate", "hedged", "role", "undisclosed", "date"):
        value = g.value(claim, KGO[prop])
        if value is not None:
            details[prop] = value.toPython() if prop != "amount" else str(value)
    reporter = g.value(claim, KGO.reportedBy)
    if reporter is not None:
        details["reportedBy"] = str(g.value(reporter, RDFS.label))
    return details


BuildTexts = Callable[..., KnowledgeGraph]

CASES: list[tuple[str, str, set[Fact]]] = [
    # investsIn: active, nominal, passive-ish, received
    ("invest-active", "Northwind Traders invested $40 million in Fabrikam Robotics on Monday.", {("Northwind Traders", "investsIn", "Fabrikam Robotics")}),
    ("invest-nominal", "The deal includes a $12 million investment from Contoso Ventures into Litware Inc.", {("Contoso Ventures", "investsIn", "Litware Inc.")}),
    ("invest-received", "Tailspin Toys received an investment of $3 million from Adventure Works Capital.", {("Adventure Works Capital", "investsIn", "Tailspin Toys")}),
    ("invest-backed-by", "Proseware Inc., backed by Woodgrove Bank, opened an office in Denver.", {("Woodgrove Bank", "investsIn", "Proseware Inc.")}),
    ("invest-made", "Fourth Coffee said it has made an investment in Wide World Importers.", {("Fourth Coffee", "investsIn", "Wide World Importers")}),
    ("invest-backing", "Tailspin Holdings is backing Litware Inc. with a direct investment.", {("Tailspin Holdings", "investsIn", "Litware Inc.")}),
    ("deal-includes-investment", "Woodgrove Bank has entered into a partnership with Coho Winery. The deal involves an investment of $8 million.",
     {("Woodgrove Bank", "investsIn", "Coho Winery")}),
    # partnersWith: verb, noun, pair, between
    ("partner-verb", "Litware Inc. partnered with Trey Research to build battery packs.", {("Litware Inc.", "partnersWith", "Trey Research")}),
    ("partner-noun", "Alpine Ski House has entered into a partnership with Coho Winery to sell gift cards.", {("Alpine Ski House", "partnersWith", "Coho Winery")}),
    ("partner-pair", "Blue Yonder Airlines and Margie's Travel announced a partnership on Tuesday.", {("Blue Yonder Airlines", "partnersWith", "Margie's Travel")}),
    ("partner-between", "Analysts praised the partnership between Fabrikam Robotics and Northwind Traders.", {("Fabrikam Robotics", "partnersWith", "Northwind Traders")}),
    # founding
    ("founded-in", "Wingtip Analytics, founded in 2011, sells forecasting software.", {("Wingtip Analytics", "foundingDate", "2011")}),
    ("established-unit", "Contoso Pictures established Contoso Labs in 2024, a research unit of 15 engineers.",
     {("Contoso Labs", "foundingDate", "2024"), ("Contoso Labs", "foundedBy", "Contoso Pictures"), ("Contoso Labs", "parentOrganization", "Contoso Pictures")}),
    ("founded-by", "Tailspin Toys was founded by Maria Okafor in 2015.", {("Tailspin Toys", "foundedBy", "Maria Okafor"), ("Tailspin Toys", "foundingDate", "2015")}),
    # parentOrganization
    ("unit-of", "Fabrikam Robotics, the industrial division of Tailspin Holdings, hired 200 engineers.", {("Fabrikam Robotics", "parentOrganization", "Tailspin Holdings")}),
    ("possessive-unit", "The work relies on Northwind Traders' Fabrikam division and its engineers.", {("Fabrikam", "parentOrganization", "Northwind Traders")}),
    # acquired: active, passive, nominal
    ("acquire-active", "Woodgrove Bank acquired Litware Inc. for $2 billion.", {("Woodgrove Bank", "acquired", "Litware Inc.")}),
    ("acquire-passive", "Coho Winery was bought by Adventure Works Cycles last year.", {("Adventure Works Cycles", "acquired", "Coho Winery")}),
    ("acquire-nominal", "Regulators approved the acquisition of Trey Research by Contoso Ltd.", {("Contoso Ltd.", "acquired", "Trey Research")}),
    # worksFor
    ("title-appos", "Jane Whitfield, chief executive of Litware Inc., said sales rose.", {("Jane Whitfield", "worksFor", "Litware Inc.")}),
    ("leads-at", "Omar Haddad, who leads research at Trey Research, declined to comment.", {("Omar Haddad", "worksFor", "Trey Research")}),
    # develops / produces
    ("products-like", "Fabrikam Robotics has drawn praise for products like Nimbus 3 and Stratus X.",
     {("Fabrikam Robotics", "develops", "Nimbus 3"), ("Fabrikam Robotics", "develops", "Stratus X")}),
    ("films-such-as", "Contoso Pictures is known for films such as Blue Harbor and The Long Road Home.",
     {("Contoso Pictures", "produces", "Blue Harbor"), ("Contoso Pictures", "produces", "The Long Road Home")}),
    # memberOf
    ("member-of", "Litware Inc. is a member of the Open Battery Alliance.", {("Litware Inc.", "memberOf", "Open Battery Alliance")}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_pattern_family_yields_the_exact_triple(build_texts: BuildTexts, name: str, text: str, expected: set[Fact]) -> None:
    assert expected <= facts(build_texts(doc=text))


@pytest.mark.slow
def test_an_amount_is_normalized_with_its_currency_and_approximation(build_texts: BuildTexts) -> None:
    graph = build_texts(doc="Northwind Traders is investing approximately $75 million in Fabrikam Robotics.")
    assert claim_details(graph, "investsIn") == {"amount": "75000000.0", "currency": "USD", "approximate": True}


@pytest.mark.slow
def test_hedged_statements_are_marked(build_texts: BuildTexts) -> None:
    graph = build_texts(doc="Woodgrove Bank has reportedly entered into a partnership with Coho Winery.")
    assert ("Coho Winery", "partnersWith", "Woodgrove Bank") in facts(graph) or ("Woodgrove Bank", "partnersWith", "Coho Winery") in facts(graph)
    assert claim_details(graph, "partnersWith") == {"hedged": True}


@pytest.mark.slow
def test_the_outlet_a_sentence_credits_is_reported_by(build_texts: BuildTexts) -> None:
    graph = build_texts(doc="Contoso Ventures invested $5 million in Litware Inc., according to The Daily Ledger.")
    assert claim_details(graph, "investsIn") == {"amount": "5000000.0", "currency": "USD", "reportedBy": "The Daily Ledger"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "The Daily Ledger reported that Contoso Ventures invested $5 million in Litware Inc.",
        "Reports from The Daily Ledger indicate that Contoso Ventures invested $5 million in Litware Inc.",
        "Contoso Ventures invested $5 million in Litware Inc., a spokesman told The Daily Ledger.",
    ],
    ids=["x-reported", "reports-from-x", "told-x"],
)
def test_every_way_of_crediting_an_outlet_sets_reported_by(build_texts: BuildTexts, text: str) -> None:
    assert claim_details(build_texts(doc=text), "investsIn").get("reportedBy") == "The Daily Ledger"


@pytest.mark.slow
def test_the_role_of_a_person_is_kept(build_texts: BuildTexts) -> None:
    graph = build_texts(doc="According to Priya Raman, VP of Engineering at Trey Research, the chips ship in May.")
    assert ("Priya Raman", "worksFor", "Trey Research") in facts(graph)
    assert claim_details(graph, "worksFor") == {"role": "VP of Engineering"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Northwind Traders is not investing in Fabrikam Robotics.",
        "Northwind Traders denied that it had invested in Fabrikam Robotics, and never partnered with it.",
        "Did Northwind Traders invest in Fabrikam Robotics?",
        "Neither Woodgrove Bank nor Litware Inc. has acquired Coho Winery.",
    ],
    ids=["negated", "denied", "question", "neither-nor"],
)
def test_negations_and_questions_yield_no_claim(build_texts: BuildTexts, text: str) -> None:
    assert facts(build_texts(doc=text)) == set()


@pytest.mark.slow
def test_it_and_the_company_resolve_to_the_entity_meant(build_texts: BuildTexts) -> None:
    graph = build_texts(doc="Fourth Coffee announced on Monday that it invested $9 million in Coho Winery.")
    assert ("Fourth Coffee", "investsIn", "Coho Winery") in facts(graph)


@pytest.mark.slow
def test_a_description_pointing_back_resolves_to_the_entity_described(build_texts: BuildTexts) -> None:
    text = (
        "Contoso Pictures, an independent film studio, opened a lab in Denver last spring. "
        "Analysts expect growth. The studio has invested $5 million in Litware Inc., a software maker."
    )
    assert ("Contoso Pictures", "investsIn", "Litware Inc.") in facts(build_texts(doc=text))
