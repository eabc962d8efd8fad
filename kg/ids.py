"""The one place that mints identifiers: from content, never random, valid in any RDF tool.

Local parts use only ``[a-z0-9-]`` (plus ``_`` and ``.`` for source ids), so no IRI can hold
a space, quote, ``%``, ``|`` or backslash, which rdflib, Oxigraph and Jena treat differently.
A key with a hash joins it with ``--``, which no slug and no kept source id contains, so
that no name can mint the hashed key of another ("A B 1a2b3c4d" is not "a-b--1a2b3c4d").
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

DEFAULT_BASE_IRI = "https://w3id.org/newskg/"
MAX_SLUG = 60
# An absolute IRI ending in "/" or "#" with only characters no RDF tool escapes or rejects.
BASE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]*[/#]")
SAFE_SOURCE_ID = re.compile(r"(?!.*--)[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
HASH_SEPARATOR = "--"


def is_base_iri(text: str) -> bool:
    """Whether minted IRIs can start with ``text`` (the user's --base-iri)."""
    return BASE_IRI.fullmatch(text) is not None


def digest(*parts: str, length: int = 16) -> str:
    """A stable hex digest of the parts (NUL-separated, so ("ab", "c") != ("a", "bc"))."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:length]


def slug(name: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Acme Corp." -> "acme-corp"."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:MAX_SLUG].strip("-")


def entity_keys(names: Iterable[str]) -> dict[str, str]:
    """A key for each distinct canonical name: its slug, or slug plus a short hash when the
    slug is empty or shared with another name (so two entities never share an IRI).
    Keys depend only on the set of names, not on their order."""
    distinct = sorted(set(names))
    by_slug: dict[str, list[str]] = {}
    for name in distinct:
        by_slug.setdefault(slug(name), []).append(name)
    keys = {}
    for base, group in by_slug.items():
        for name in group:
            if base and len(group) == 1:
                keys[name] = base
            else:
                keys[name] = f"{base or 'e'}{HASH_SEPARATOR}{digest(name, length=8 if base else 12)}"
    return keys


def source_key(document_id: str) -> str:
    """The document id itself when it is IRI-safe, else its slug plus a short hash."""
    if SAFE_SOURCE_ID.fullmatch(document_id):
        return document_id
    return f"{slug(document_id) or 'source'}{HASH_SEPARATOR}{digest(document_id, length=8)}"


def claim_key(subject: str, relation: str, target: str, document_id: str) -> str:
    return digest(subject, relation, target, document_id)


def evidence_key(claim: str, start: int, end: int) -> str:
    return digest(claim, str(start), str(end))
