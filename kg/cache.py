"""A per-document cache of extraction results, so rebuilds parse only what changed.

An entry is keyed by everything its result depends on: the document (id, format, text),
the spaCy pipeline, the rule and word-list files, and the extraction code. Change any of
them and exactly the entries it affects miss. Entries are JSON files written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kg.types import AliasLink, Details, Document, DocumentExtraction, Mention, RelationMention, Span

# Files whose code decides what extraction yields; editing one invalidates every entry.
EXTRACTION_CODE = ("nlp.py", "layout.py", "types.py", "extract/__init__.py", "extract/mentions.py", "extract/relations.py", "extract/rules.py")
FORMAT_VERSION = "1"


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

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, document: Document) -> DocumentExtraction | None:
        path = self._path(key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing, or damaged by a crash of another tool: parse again
        self.used.add(key)
        return _extraction(document, record)

    def put(self, key: str, extraction: DocumentExtraction) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"mentions": [asdict(m) for m in extraction.mentions], "relations": [asdict(r) for r in extraction.relations], "aliases": [asdict(a) for a in extraction.aliases]}
        handle, temporary = tempfile.mkstemp(prefix=".entry-", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(record, file, ensure_ascii=False, separators=(",", ":"))
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


def _span(record: dict[str, Any]) -> Span:
    return Span(record["start"], record["end"], record["text"])


def _mention(record: dict[str, Any]) -> Mention:
    votes = tuple((kind, weight) for kind, weight in record["type_votes"])
    return Mention(record["doc_id"], _span(record["span"]), votes, record["in_heading"], record["owner"])


def _optional_mention(record: dict[str, Any] | None) -> Mention | None:
    return None if record is None else _mention(record)


def _relation(record: dict[str, Any]) -> RelationMention:
    return RelationMention(
        doc_id=record["doc_id"],
        subject=_mention(record["subject"]),
        relation=record["relation"],
        object=_optional_mention(record["object"]),
        literal=record["literal"],
        evidence=_span(record["evidence"]),
        pattern=record["pattern"],
        confidence=record["confidence"],
        details=Details(**record["details"]),
        reported_by=_optional_mention(record["reported_by"]),
    )


def _extraction(document: Document, record: dict[str, Any]) -> DocumentExtraction:
    mentions = tuple(_mention(m) for m in record["mentions"])
    relations = tuple(_relation(r) for r in record["relations"])
    aliases = tuple(AliasLink(**a) for a in record["aliases"])
    return DocumentExtraction(document, mentions, relations, aliases)
