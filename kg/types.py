"""The records that flow between the pipeline's stages.

Everything here is plain data: no spaCy or rdflib object crosses a stage boundary,
so each stage can be tested without the others. Offsets are code-point offsets into
``Document.text``, end exclusive.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# The entity types of the contract; "Place" is kept so that places are typed, not dropped.
ENTITY_TYPES = ("Organization", "Person", "Product", "CreativeWork", "Place")


def canonical_decimal(value: Decimal) -> str:
    """XSD's canonical decimal: no exponent, no trailing zeros, at least one digit after
    the point ("75000000.0", "0.5")."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


@dataclass(frozen=True, slots=True)
class Document:
    """One source article, its text exactly as decoded from the file."""

    id: str  # the file name without its extension
    text: str
    path: str  # as found, POSIX form; used to link back to the file
    format: str  # "txt", "md" or "html"
    title: str | None = None
    date: str | None = None  # ISO date when the article states one
    plain: str = ""  # the text the NLP reads: same length as text, markup blanked out


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a document: ``text == document.text[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A name as it occurs in one document, already cleaned of determiners and possessives."""

    doc_id: str
    span: Span
    type_votes: tuple[tuple[str, float], ...]  # (entity type, weight) from tags and context
    in_heading: bool = False  # found in a title-case line rather than running text
    owner: str | None = None  # "X" when written "X's <name>" (used to join aliases)

    @property
    def name(self) -> str:
        return self.span.text


@dataclass(frozen=True, slots=True)
class AliasLink:
    """Two names a document says are the same thing, e.g. an acronym defined in text."""

    doc_id: str
    name: str
    alias: str
    rule: str


@dataclass(frozen=True, slots=True)
class Details:
    """What a sentence says about a fact beyond its two ends."""

    amount: str | None = None  # canonical decimal string, e.g. "75000000"
    currency: str | None = None
    approximate: bool = False
    undisclosed: bool = False  # the text says the amount was not disclosed
    date: str | None = None
    role: str | None = None
    hedged: bool = False


@dataclass(frozen=True, slots=True)
class RelationMention:
    """One statement of a fact in one sentence: who, what relation, whom, and why we think so."""

    doc_id: str
    subject: Mention
    relation: str  # local name of a kgo: property, e.g. "investsIn"
    object: Mention | None  # None when the object is a literal
    literal: str | None  # e.g. a year for foundingDate
    evidence: Span
    pattern: str  # id of the rule that fired
    confidence: float
    details: Details = field(default_factory=Details)
    reported_by: Mention | None = None  # the outlet the sentence credits


@dataclass(frozen=True, slots=True)
class DocumentExtraction:
    """Everything the per-document stages found in one document."""

    document: Document
    mentions: tuple[Mention, ...]
    relations: tuple[RelationMention, ...]
    aliases: tuple[AliasLink, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    """One real thing across the corpus."""

    key: str  # the IRI's local part, minted by kg.ids
    label: str
    type: str  # one of ENTITY_TYPES
    aliases: tuple[tuple[str, str], ...]  # (surface form, rule that joined it)
    mentioned_in: tuple[str, ...]  # document ids
    same_as: tuple[str, ...] = ()  # IRIs of the same thing elsewhere (Wikidata)
    mention_count: int = 0


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence that states a claim, with the rule that read it."""

    doc_id: str
    span: Span
    pattern: str


@dataclass(frozen=True, slots=True)
class Claim:
    """One fact as stated by one source document, with all its evidence there."""

    key: str
    subject: str  # entity key
    relation: str
    object: str | None  # entity key, or None for a literal object
    literal: str | None
    doc_id: str
    evidence: tuple[Evidence, ...]
    confidence: float
    details: Details
    reported_by: str | None = None  # entity key of the credited outlet
    disputed_by: tuple[str, ...] = ()  # keys of claims of the same fact that disagree on a detail
    corroborated_by: tuple[str, ...] = ()  # keys of claims of the same fact from other sources

    @property
    def fact(self) -> tuple[str, str, str]:
        return (self.subject, self.relation, self.object if self.object is not None else f'"{self.literal}"')
