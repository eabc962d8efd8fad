"""A per-document cache of extraction results, so rebuilds parse only what changed.

An entry is keyed by everything its result depends on: the document (id, format, text),
the spaCy pipeline, the rule and word-list files, and the extraction code. Change any of
them and exactly the entries it affects miss. Entries are JSON files written atomically.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import fields
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson

from kg.types import AliasLink, Details, Document, DocumentExtraction, Mention, RelationMention, Span

# Files whose code decides what extraction yields; editing one invalidates every entry.
EXTRACTION_CODE = ("nlp.py", "layout.py", "types.py", "extract/document.py", "extract/mentions.py", "extract/relations.py", "extract/rules.py")
FORMAT_VERSION = "2"


@cache
def code_fingerprint() -> str:
    digest = hashlib.sha256(f"{FORMAT_VERSION} {version('newskg')}".encode())
    package = Path(__file__).resolve().parent
    for name in EXTRACTION_CODE:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def entry_key(document: Document, pipeline: str) -> str:
    """``pipeline`` names the spaCy model and the rules' fingerprint."""
    digest = hashlib.sha256()
    for part in (code_fingerprint(), pipeline, document.id, document.format, document.text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


class ExtractionCache:
    """Extraction results by entry key, under one folder; remembers which it served."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.used: set[str] = set()

    def _path(self, key: str) -> str:
        # A string, not a Path: a rebuild looks up thousands of entries, and pathlib's joins
        # cost as much as reading the file.
        return os.path.join(self.folder, key[:2], f"{key}.json")

    def holds(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def get(self, key: str, document: Document) -> DocumentExtraction | None:
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                extraction = _extraction(document, orjson.loads(file.read()))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, or damaged by a crash or another tool: parse again
        self.used.add(key)
        return extraction

    def put(self, key: str, extraction: DocumentExtraction) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        record = _record(extraction)
        handle, temporary = tempfile.mkstemp(prefix=".entry-", dir=os.path.dirname(path))
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(orjson.dumps(record))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.used.add(key)

    def prune(self) -> int:
        """Delete the entries this build did not use (documents removed or changed)."""
        removed = 0
        for path in self.folder.glob("*/*.json"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


# An entry holds one document's records as JSON arrays, fields in the order of the
# dataclasses and without the document id every record repeats: about half the size of
# JSON objects, and read in half the time, which a rebuild spends on every cached document.


DETAILS_FIELDS = tuple(field.name for field in fields(Details))


def _record(extraction: DocumentExtraction) -> dict[str, list[Any]]:
    doc_id = extraction.document.id
    records = (*extraction.mentions, *extraction.relations, *extraction.aliases)
    if any(record.doc_id != doc_id for record in records):
        raise ValueError(f"{doc_id}: an extraction record names another document")
    return {
        "mentions": [_mention_fields(m) for m in extraction.mentions],
        "relations": [_relation_fields(r) for r in extraction.relations],
        "aliases": [[a.name, a.alias, a.rule] for a in extraction.aliases],
    }


def _mention_fields(mention: Mention | None) -> list[Any] | None:
    if mention is None:
        return None
    span = mention.span
    return [span.start, span.end, span.text, mention.type_votes, mention.in_heading, mention.owner]


def _relation_fields(relation: RelationMention) -> list[Any]:
    evidence, details = relation.evidence, relation.details
    return [
        _mention_fields(relation.subject),
        relation.relation,
        _mention_fields(relation.object),
        relation.literal,
        [evidence.start, evidence.end, evidence.text],
        relation.pattern,
        relation.confidence,
        [getattr(details, name) for name in DETAILS_FIELDS],
        _mention_fields(relation.reported_by),
    ]


def _extraction(document: Document, record: dict[str, list[Any]]) -> DocumentExtraction:
    doc_id = document.id

    def mention(fields: list[Any] | None) -> Mention | None:
        if fields is None:
            return None
        start, end, text, votes, in_heading, owner = fields
        return Mention(doc_id, Span(start, end, text), tuple(map(tuple, votes)), in_heading, owner)

    def relation(fields: list[Any]) -> RelationMention:
        subject, name, target, literal, evidence, pattern, confidence, details, reported_by = fields
        return RelationMention(
            doc_id, mention(subject), name, mention(target), literal, Span(*evidence), pattern, confidence, Details(*details), mention(reported_by)  # type: ignore[arg-type]
        )

    mentions = tuple(map(mention, record["mentions"]))
    relations = tuple(map(relation, record["relations"]))
    aliases = tuple(AliasLink(doc_id, *fields) for fields in record["aliases"])
    return DocumentExtraction(document, mentions, relations, aliases)  # type: ignore[arg-type]
