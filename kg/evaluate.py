"""Score a built graph against gold annotations, as users measure their own articles.

The gold format is one JSON object per line and document:

    {"id": "<source id>", "entities": [{"name": ..., "type": ..., "aliases": [...]}],
     "relations": [{"head": ..., "relation": "investsIn", "tail": ..., "implicit": false}]}

Claims are matched per document: a gold relation is found when a claim of that document
has the same relation and its subject and object carry one of the gold names (label or
alias, compared leniently: case, quotes, a leading "the", a trailing possessive);
``partnersWith`` matches in either direction and ``foundingDate`` compares years. Gold
entities are found among the entities mentioned in the document; typed when the type
agrees too. These are the rules of the independent ``score_kg.py`` the project is held to.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal

SCORED_TYPES = ("Organization", "Person", "Product", "CreativeWork")

CLAIMS = """
SELECT ?s ?p ?o ?doc WHERE {
  ?claim a kgo:Claim ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
         prov:wasDerivedFrom/dcterms:identifier ?doc .
}"""
NAMES = "SELECT ?e ?name WHERE { { ?e rdfs:label ?name } UNION { ?e skos:altLabel ?name } }"
MENTIONS = "SELECT ?e ?type ?doc WHERE { ?e kgo:mentionedIn/dcterms:identifier ?doc ; a ?type . }"
PREFIXES = {
    "kgo": "https://w3id.org/newskg/ontology#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
}


class GoldError(ValueError):
    """A gold file that cannot be read; the message names the file and line."""


@dataclass
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    relations: dict[str, Counts]
    entities: Counts
    typed_entities: Counts
    misses: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    @property
    def micro(self) -> Counts:
        return Counts(
            sum(c.tp for c in self.relations.values()),
            sum(c.predicted for c in self.relations.values()),
            sum(c.gold for c in self.relations.values()),
        )

    def as_dict(self) -> dict[str, object]:
        def row(c: Counts) -> dict[str, float | int]:
            return {"p": c.precision, "r": c.recall, "f": c.f1, "tp": c.tp, "pred": c.predicted, "gold": c.gold}

        return {
            "relations": {name: row(c) for name, c in self.relations.items()},
            "micro": row(self.micro),
            "entities": {**row(self.entities), "typed_f": self.typed_entities.f1},
            "misses": self.misses,
            "spurious": self.spurious,
        }


def name_key(name: str) -> str:
    """Lenient comparison of names: case, quotes, a leading "the", a trailing possessive."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\s+", " ", text.strip().strip("\"'\u201c\u201d.,;:()[]").lower())
    return re.sub(r"'s$", "", re.sub(r"^the ", "", text)).strip()


def _year(value: str) -> str | None:
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", value)
    return match.group(1) if match else None


def load_gold(path: Path) -> dict[str, dict]:
    gold = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            gold[str(document["id"])] = document
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise GoldError(f"{path}:{number}: not a gold document ({error})") from error
    return gold


def _aliases(document: dict) -> dict[str, set[str]]:
    aliases: dict[str, set[str]] = {}
    for entity in document.get("entities", []):
        names = {name_key(n) for n in [entity["name"], *entity.get("aliases", [])]}
        for name in names:
            aliases.setdefault(name, set()).update(names)
    return aliases


def _matches(gold_name: str, names: set[str], aliases: dict[str, set[str]]) -> bool:
    return bool(aliases.get(name_key(gold_name), {name_key(gold_name)}) & names)


def score(graph: Graph, gold: dict[str, dict], *, skip_implicit: bool = False) -> Score:
    names: dict[object, set[str]] = defaultdict(set)
    for entity, name in graph.query(NAMES, initNs=PREFIXES):
        names[entity].add(name_key(name))

    def names_of(node: object) -> set[str]:
        if isinstance(node, Literal):
            return {name_key(node)}
        return names.get(node) or {name_key(re.split(r"[#/]", str(node))[-1])}

    scored = sorted({r["relation"] for d in gold.values() for r in d.get("relations", [])})
    predicted: dict[str, list[tuple[str, set[str], set[str], str]]] = defaultdict(list)
    for subject, predicate, obj, doc in graph.query(CLAIMS, initNs=PREFIXES):
        relation = str(predicate).rsplit("#", 1)[-1]
        if str(doc) in gold and relation in scored:
            predicted[str(doc)].append((relation, names_of(subject), names_of(obj), str(obj)))
    for claims in predicted.values():
        claims.sort(key=lambda c: (c[0], sorted(c[1]), sorted(c[2]), c[3]))

    relations = {name: Counts() for name in scored}
    result = Score(relations, Counts(), Counts())
    for doc_id, document in sorted(gold.items()):
        aliases = _aliases(document)
        used: set[int] = set()
        for relation in document.get("relations", []):
            if skip_implicit and relation.get("implicit"):
                continue
            relations[relation["relation"]].gold += 1
            hit = next((i for i, claim in enumerate(predicted[doc_id]) if i not in used and _same_fact(relation, claim, aliases)), None)
            if hit is None:
                result.misses.append(f"{doc_id}: {relation['head']} {relation['relation']} {relation['tail']}")
            else:
                used.add(hit)
                relations[relation["relation"]].tp += 1
        for i, (relation_name, subject_names, object_names, _) in enumerate(predicted[doc_id]):
            relations[relation_name].predicted += 1
            if i not in used:
                result.spurious.append(f"{doc_id}: {min(subject_names)} {relation_name} {min(object_names)}")
    _score_entities(graph, gold, names_of, result)
    return result


def _same_fact(gold: dict, claim: tuple[str, set[str], set[str], str], aliases: dict[str, set[str]]) -> bool:
    relation, subject_names, object_names, raw_object = claim
    if relation != gold["relation"]:
        return False
    if relation == "foundingDate":
        return _matches(gold["head"], subject_names, aliases) and _year(raw_object) == _year(str(gold["tail"]))
    forward = _matches(gold["head"], subject_names, aliases) and _matches(gold["tail"], object_names, aliases)
    backward = relation == "partnersWith" and _matches(gold["head"], object_names, aliases) and _matches(gold["tail"], subject_names, aliases)
    return forward or backward


def _score_entities(graph: Graph, gold: dict[str, dict], names_of: Callable[[object], set[str]], result: Score) -> None:
    mentioned: dict[str, list[tuple[set[str], str]]] = defaultdict(list)
    for entity, kind, doc in graph.query(MENTIONS, initNs=PREFIXES):
        local = str(kind).rsplit("#", 1)[-1]
        if str(kind).startswith(PREFIXES["kgo"]) and local in SCORED_TYPES and str(doc) in gold:
            mentioned[str(doc)].append((names_of(entity), local))
    for doc_id, document in sorted(gold.items()):
        aliases = _aliases(document)
        wanted = [e for e in document.get("entities", []) if e.get("type") in SCORED_TYPES]
        found = sorted(mentioned[doc_id], key=lambda item: (sorted(item[0]), item[1]))
        result.entities.gold += len(wanted)
        result.typed_entities.gold += len(wanted)
        result.entities.predicted += len(found)
        result.typed_entities.predicted += len(found)
        used: set[int] = set()
        for entity in wanted:
            hit = next((i for i, (names, _) in enumerate(found) if i not in used and _matches(entity["name"], names, aliases)), None)
            if hit is not None:
                used.add(hit)
                result.entities.tp += 1
                result.typed_entities.tp += found[hit][1] == entity["type"]


def report(result: Score) -> str:
    """The score as a table, then what was missed and what was not in the gold."""
    lines = [f"{'relation':<20}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'pred':>6}{'gold':>6}"]
    for name, c in result.relations.items():
        lines.append(f"{name:<20}{c.precision:>7.2f}{c.recall:>7.2f}{c.f1:>7.2f}{c.tp:>5}{c.predicted:>6}{c.gold:>6}")
    micro = result.micro
    lines.append(f"{'relations (micro)':<20}{micro.precision:>7.2f}{micro.recall:>7.2f}{micro.f1:>7.2f}{micro.tp:>5}{micro.predicted:>6}{micro.gold:>6}")
    e = result.entities
    lines.append(f"{'entities':<20}{e.precision:>7.2f}{e.recall:>7.2f}{e.f1:>7.2f}{e.tp:>5}{e.predicted:>6}{e.gold:>6}   typed F1 {result.typed_entities.f1:.2f}")
    lines += [f"  missed:   {m}" for m in result.misses]
    lines += [f"  spurious: {s}" for s in result.spurious]
    return "\n".join(lines)
