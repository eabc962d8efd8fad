"""Load and check the extraction data: the word lists and the relation rules.

Rules and words are data (``ontology/lexicon.json``, ``ontology/relations.jsonl``); a broken
file is reported with its name and line, never half-used.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kg.vocab import RELATIONS, data_file

RULE_KINDS = ("dependency", "list")
# Besides a node of the pattern, an argument can be the subject of the trigger's clause, or
# (subject only) the two sides of the latest partnership the document stated, in that order.
PARTNERS = "latest-partners"
ARGUMENT_SOURCES = ("clause", PARTNERS)


class RuleError(ValueError):
    """A rule or word-list file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str
    relation: str
    description: str
    reliability: float
    pattern: tuple[dict[str, Any], ...] = ()
    subject: str = "clause"
    object: str | None = None
    literal: str | None = None
    role: str | None = None
    pairs: bool = False  # the subject and its conjuncts relate to each other ("X and Y partnered")
    swap: bool = False  # the pattern's subject is the relation's object (passives, "unit of X")
    cue_nouns: str | None = None  # for "list" rules: the lexicon list naming the items' kind
    item_type: str | None = None  # entity type the items of a list rule get
    vote: bool = True  # False when the rule's relation depends on the object's type ("released Y")


@dataclass(frozen=True, slots=True)
class Lexicon:
    words: dict[str, Any]
    _read: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)  # lists asked for, as read

    def set(self, key: str) -> frozenset[str]:
        return self._memo("set", key, lambda: frozenset(self.words[key]))

    def phrases(self, key: str) -> tuple[tuple[str, ...], ...]:
        return self._memo("phrases", key, lambda: tuple(tuple(words) if isinstance(words, list) else tuple(words.split()) for words in self.words[key]))

    def _memo(self, form: str, key: str, read: Callable[[], Any]) -> Any:
        # Extraction asks for the same lists for every token it reads.
        if (form, key) not in self._read:
            self._read[form, key] = read()
        return self._read[form, key]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise RuleError(f"{path}: {error}") from error


@cache
def lexicon() -> Lexicon:
    path = data_file("lexicon.json")
    words = _read_json(path)
    for key, value in words.items():
        if not key.startswith("_") and not isinstance(value, (list, dict)):
            raise RuleError(f"{path}: '{key}' must be a list or an object")
    return Lexicon(words)


def _expand_word_lists(value: Any, where: str) -> Any:
    """Replace "@name" in a pattern by the lexicon's list of that name, so words live in one place."""
    if isinstance(value, dict):
        return {key: _expand_word_lists(item, where) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("@"):
        words = lexicon().words.get(value[1:])
        if not isinstance(words, list):
            raise RuleError(f"{where}: no word list '{value[1:]}' in lexicon.json")
        return words
    return value


def _rule_from(record: dict[str, Any], where: str) -> Rule:
    known = set(Rule.__dataclass_fields__)
    unknown = set(record) - known
    if unknown:
        raise RuleError(f"{where}: unknown field(s) {sorted(unknown)}")
    for required in ("id", "kind", "relation", "description", "reliability"):
        if required not in record:
            raise RuleError(f"{where}: missing '{required}'")
    if record["kind"] not in RULE_KINDS:
        raise RuleError(f"{where}: kind must be one of {RULE_KINDS}")
    if record["relation"] not in RELATIONS:
        raise RuleError(f"{where}: unknown relation '{record['relation']}'")
    if not 0 < float(record["reliability"]) <= 1:
        raise RuleError(f"{where}: reliability must be in (0, 1]")
    pattern = tuple(_expand_word_lists(node, where) for node in record.get("pattern", ()))
    if record["kind"] == "dependency":
        names = {node.get("RIGHT_ID") for node in pattern}
        if not pattern or "trigger" not in names:
            raise RuleError(f"{where}: a dependency rule needs a pattern with a 'trigger' node")
        trigger = next(node.get("RIGHT_ATTRS", {}) for node in pattern if node.get("RIGHT_ID") == "trigger")
        if not {"LEMMA", "LOWER"} & set(trigger):
            raise RuleError(f"{where}: the 'trigger' node must name its words (LEMMA or LOWER)")
        for role in ("subject", "object", "literal", "role"):
            value = record.get(role)
            if value is not None and value not in names and value not in ARGUMENT_SOURCES:
                raise RuleError(f"{where}: {role} '{value}' is not a node of the pattern")
    return Rule(**{**record, "pattern": pattern, "reliability": float(record["reliability"])})


@cache
def rules() -> tuple[Rule, ...]:
    path = data_file("relations.jsonl")
    loaded: list[Rule] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise RuleError(f"{where}: {error.msg} at column {error.colno}") from error
        rule = _rule_from(record, where)
        if rule.id in seen:
            raise RuleError(f"{where}: duplicate rule id '{rule.id}'")
        seen.add(rule.id)
        loaded.append(rule)
    return tuple(loaded)


def rules_fingerprint() -> str:
    """Changes whenever a rule or word list changes: part of every cache key."""
    digest = hashlib.sha256()
    for name in ("lexicon.json", "relations.jsonl"):
        digest.update(data_file(name).read_bytes())
    return digest.hexdigest()[:16]
