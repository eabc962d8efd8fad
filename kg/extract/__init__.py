"""Per-document extraction: a parsed document in, plain records out.

No spaCy object leaves this package, so every later stage is testable without a model.
"""
from __future__ import annotations

from dataclasses import replace

from spacy.tokens import Doc

from kg.extract.mentions import find_mentions
from kg.extract.relations import extractor
from kg.types import Document, DocumentExtraction, Span


def extract(document: Document, doc: Doc) -> DocumentExtraction:
    """Mentions, relations and aliases of one document, offsets into ``document.text``."""
    index, aliases = find_mentions(doc, document.id)
    relations = extractor(doc.vocab).relations(doc, index)
    mentions = tuple(index.mention(number) for number in index.live())
    # The parse ran on the analysed text (markup blanked); quotes come from the text as read.
    relations = tuple(
        replace(relation, evidence=Span(relation.evidence.start, relation.evidence.end, document.text[relation.evidence.start : relation.evidence.end]))
        for relation in relations
    )
    return DocumentExtraction(document, mentions, relations, tuple(aliases))
