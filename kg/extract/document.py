"""One document's extraction: its parsed pieces in, plain records out."""
from __future__ import annotations

from dataclasses import replace

from spacy.tokens import Doc

from kg.extract.mentions import find_mentions
from kg.extract.relations import extractor
from kg.types import Document, DocumentExtraction, Span


def extract(document: Document, pieces: list[tuple[int, Doc]]) -> DocumentExtraction:
    """Mentions, relations and aliases of one document, parsed in pieces that start at the
    given offsets; every offset is into ``document.text``."""
    mentions, relations, aliases = [], [], []
    # The pieces cut the analysed text end to end (kg.nlp.parse): each piece's text is a
    # slice of it, cheaper to take than to have spaCy join its tokens again.
    analysed = document.plain or document.text
    ends = [offset for offset, _ in pieces[1:]] + [len(analysed)]
    for (offset, doc), end in zip(pieces, ends):
        index, piece_aliases = find_mentions(doc, document.id, offset, analysed[offset:end])
        relations += extractor(doc.vocab).relations(doc, index)
        mentions += [index.mention(number) for number in index.live()]
        aliases += piece_aliases
    # The parse ran on the analysed text (markup blanked); quotes come from the text as read.
    quoted = tuple(
        replace(relation, evidence=Span(relation.evidence.start, relation.evidence.end, document.text[relation.evidence.start : relation.evidence.end]))
        for relation in relations
    )
    return DocumentExtraction(document, tuple(mentions), quoted, tuple(aliases))
