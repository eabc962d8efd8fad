"""Across documents: mentions become entities, relation mentions become claims.

One entity per real thing: names are joined when they are the same name, when a document
defines one as the other's acronym or surname, when one is the other written with its
owner ("X's Y" for "X Y"), or when one is the other's last words after a known name ("Y"
for "X Y"). Every join keeps the rule that made it, and a user's overrides win. Types are
voted over every mention in the corpus. The result does not depend on document order.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from kg import ids
from kg.types import ENTITY_TYPES, AliasLink, Claim, Details, Document, DocumentExtraction, Entity, Evidence, Mention, RelationMention, Span
from kg.vocab import SYMMETRIC_RELATIONS, relation_signatures

TYPE_ORDER = {kind: rank for rank, kind in enumerate(ENTITY_TYPES)}  # breaks ties in votes
MAX_CONFIDENCE = 0.99


@dataclass(frozen=True, slots=True)
class Overrides:
    """A user's corrections: names that are the same thing, and names that are not."""

    same: tuple[tuple[str, str], ...] = ()
    different: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class KnownEntity:
    """A curated entity: its name, type, aliases and optional Wikidata id."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()
    wikidata: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The corpus as entities and claims, ready to be written as RDF."""

    documents: tuple[Document, ...]
    entities: tuple[Entity, ...]
    claims: tuple[Claim, ...]


SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1 << 16)  # a corpus names the same few entities again and again
def name_key(name: str) -> str:
    """Names that differ only in case, quotes, spacing or a leading "the" are one name."""
    text = unicodedata.normalize("NFKC", name).replace("\u2019", "'").replace("\u2018", "'")
    text = SPACES.sub(" ", text).strip().casefold()
    return text.removeprefix("the ")


@dataclass
class _Clusters:
    """Union-find over name keys, remembering why each key joined its cluster."""

    parent: dict[str, str] = field(default_factory=dict)
    reason: dict[str, str] = field(default_factory=dict)
    apart: set[frozenset[str]] = field(default_factory=set)

    def add(self, key: str) -> None:
        self.parent.setdefault(key, key)

    def find(self, key: str) -> str:
        self.add(key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, key: str, alias: str, rule: str) -> None:
        """Join ``alias`` to ``key``'s cluster, unless the user keeps them apart."""
        a, b = self.find(key), self.find(alias)
        if a == b or (self.apart and self._kept_apart(a, b)):
            return
        low, high = sorted((a, b))  # the root does not depend on the order of joins
        self.parent[high] = low
        # Either name may end up the label; the other is the alias this rule joined.
        self.reason.setdefault(alias, rule)
        self.reason.setdefault(key, rule)

    def _kept_apart(self, a: str, b: str) -> bool:
        members_a = {k for k in self.parent if self.find(k) == a}
        members_b = {k for k in self.parent if self.find(k) == b}
        return any(frozenset({x, y}) in self.apart for x in members_a for y in members_b)


def resolve(
    extractions: Iterable[DocumentExtraction],
    overrides: Overrides = Overrides(),
    known: Iterable[KnownEntity] = (),
) -> Resolution:
    extractions = sorted(extractions, key=lambda extraction: extraction.document.id)
    known = sorted(known, key=lambda entity: entity.name)
    mentions = [m for extraction in extractions for m in extraction.mentions]
    keys = [name_key(m.name) for m in mentions]  # each mention's key, worked out once
    aliases = [a for extraction in extractions for a in extraction.aliases]

    running_text = {key for key, m in zip(keys, mentions) if not m.in_heading}
    running_text.update(name_key(k.name) for k in known)
    running_text.update(name_key(alias) for k in known for alias in k.aliases)

    clusters = _Clusters(apart={frozenset({name_key(a), name_key(b)}) for a, b in overrides.different})
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for key, mention in zip(keys, mentions):
        clusters.add(key)
        surface[key][mention.name] += 1
        for kind, weight in mention.type_votes:
            votes[key][kind] += weight
    for entity in known:
        key = name_key(entity.name)
        clusters.add(key)
        surface[key][entity.name] += 1000  # the curated name is the label
        votes[key][entity.type] += 1000
        for alias in entity.aliases:
            clusters.join(key, name_key(alias), "known-entities")

    counts = Counter(keys)
    _join_names(clusters, mentions, aliases, votes, counts, surface)
    for a, b in overrides.same:
        clusters.join(name_key(a), name_key(b), "user-override")

    entities, entity_of = _entities(clusters, surface, votes, zip(keys, mentions), counts, running_text, known)
    claims = _claims(extractions, entities, entity_of)
    documents = tuple(extraction.document for extraction in extractions)
    return Resolution(documents, tuple(sorted(entities.values(), key=lambda e: e.key)), claims)


def _join_names(
    clusters: _Clusters,
    mentions: list[Mention],
    aliases: list[AliasLink],
    votes: dict[str, Counter[str]],
    counts: Counter[str],
    surface: dict[str, Counter[str]],
) -> None:
    for link in sorted(aliases, key=lambda a: (a.name, a.alias, a.rule)):
        clusters.join(name_key(link.name), name_key(link.alias), link.rule)
    keys = set(clusters.parent)
    # "X's Y" is "X Y" when the corpus uses that name.
    for mention in mentions:
        if mention.owner:
            joined = name_key(f"{mention.owner} {mention.name}")
            if joined in keys:
                clusters.join(joined, name_key(mention.name), "possessive-form")
                written = f"{mention.owner}'s {mention.name}"
                surface[name_key(written)][written] += 1
                clusters.join(joined, name_key(written), "possessive-form")
    # "Y" is "X Y" when X is itself a name, no other "... Y" competes, and "X Y" is not a
    # rare run-together of two names ("X Y partnership").
    by_tail: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        words = key.split(" ")
        for cut in range(1, len(words)):
            if " ".join(words[:cut]) in keys:
                by_tail[" ".join(words[cut:])].add(key)
    for tail, longer in sorted(by_tail.items()):
        (full,) = longer if len(longer) == 1 else (None,)
        if tail in keys and full is not None and votes[tail][_kind(votes[full]) or ""] > 0 and 2 * counts[full] >= counts[tail]:
            clusters.join(full, tail, "short-form")
    # A lone surname names the one person of the corpus with that last name.
    people: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        if " " in key and _kind(votes[key]) == "Person":
            people[key.rsplit(" ", 1)[1]].add(key)
    for surname, full in sorted(people.items()):
        if surname in keys and len(full) == 1 and _kind(votes[surname]) in ("Person", None):
            clusters.join(next(iter(full)), surname, "surname")


def _kind(votes: Counter[str]) -> str | None:
    if not votes:
        return None
    return min(votes, key=lambda kind: (-votes[kind], TYPE_ORDER.get(kind, 99)))


def _entities(
    clusters: _Clusters,
    surface: dict[str, Counter[str]],
    votes: dict[str, Counter[str]],
    keyed_mentions: Iterable[tuple[str, Mention]],
    counts: Counter[str],
    running_text: set[str],
    known: list[KnownEntity],
) -> tuple[dict[str, Entity], dict[str, str]]:
    """One entity per cluster with a name seen in running text; returns (entities by key,
    entity key by name key)."""
    members: dict[str, list[str]] = defaultdict(list)
    for key in sorted(clusters.parent):
        members[clusters.find(key)].append(key)
    docs_of: dict[str, set[str]] = defaultdict(set)
    for key, mention in keyed_mentions:
        docs_of[key].add(mention.doc_id)
    wikidata = {name_key(k.name): k.wikidata for k in known if k.wikidata}

    drafts = []
    for _, keys in sorted(members.items()):
        if not any(key in running_text for key in keys):
            continue  # only ever seen in headlines: word salad until running text names it
        if len(keys) == 1:  # most names stand alone: their counts are the cluster's, uncopied
            names, total = surface[keys[0]], votes[keys[0]]
        else:
            names, total = Counter(), Counter()
            for key in keys:
                names.update(surface[key])
                total.update(votes[key])
        kind = _kind(total) or "Organization"
        label = _canonical(names, running_text)
        alias_rules = {key: clusters.reason.get(key, "same-name") for key in keys}
        aliases = sorted(
            {(name, alias_rules[name_key(name)]) for name in names if name != label},
        )
        drafts.append((label, kind, tuple(aliases), keys, {wikidata[k] for k in keys if k in wikidata}))

    minted = ids.entity_keys(label for label, *_ in drafts)
    entities: dict[str, Entity] = {}
    entity_of: dict[str, str] = {}
    for label, kind, aliases, keys, same_as in drafts:
        key = minted[label]
        mentioned_in = sorted({doc for k in keys for doc in docs_of[k]})
        entities[key] = Entity(
            key=key,
            label=label,
            type=kind,
            aliases=aliases,
            mentioned_in=tuple(mentioned_in),
            same_as=tuple(sorted(f"http://www.wikidata.org/entity/{q}" for q in same_as)),
            mention_count=sum(counts[k] for k in keys),
        )
        for k in keys:
            entity_of[k] = key
    return entities, entity_of


def _canonical(names: Counter[str], running_text: set[str]) -> str:
    """The most complete common form: the longest name seen in running text, then the most
    frequent, with a straight apostrophe preferred to a curly one for equal names."""
    candidates = [name for name in names if name_key(name) in running_text] or list(names)
    return max(candidates, key=lambda name: (len(name.split()), names[name], "\u2019" not in name, name))


def _claims(extractions: list[DocumentExtraction], entities: dict[str, Entity], entity_of: dict[str, str]) -> tuple[Claim, ...]:
    signatures = relation_signatures()
    grouped: dict[tuple[str, str, str, str], list[RelationMention]] = defaultdict(list)
    for extraction in extractions:
        for relation in extraction.relations:
            subject = entity_of.get(name_key(relation.subject.name))
            target = entity_of.get(name_key(relation.object.name)) if relation.object else None
            if subject is None or (relation.object is not None and target is None):
                continue
            domain, range_ = signatures[relation.relation]
            if entities[subject].type not in domain:
                continue
            if target is not None and entities[target].type not in range_:
                continue
            if target == subject:
                continue
            if relation.relation in SYMMETRIC_RELATIONS and target is not None and target < subject:
                subject, target = target, subject
            object_id = target if target is not None else f'"{relation.literal}"'
            grouped[(subject, relation.relation, object_id, relation.doc_id)].append(relation)

    claims: list[Claim] = []
    for (subject, relation, object_id, doc_id), statements in sorted(grouped.items()):
        key = ids.claim_key(subject, relation, object_id, doc_id)
        literal = None if object_id in entities else object_id.strip('"')
        strongest: dict[tuple[int, int], RelationMention] = {}
        for statement in sorted(statements, key=lambda s: (-s.confidence, s.pattern)):
            strongest.setdefault((statement.evidence.start, statement.evidence.end), statement)
        evidence = [(s.evidence.start, s.evidence.end, s.evidence.text, s.pattern) for _, s in sorted(strongest.items())]
        best = max(statements, key=lambda s: (s.confidence, s.evidence.start))
        reporter = next(
            (entity_of.get(name_key(s.reported_by.name)) for s in statements if s.reported_by is not None and entity_of.get(name_key(s.reported_by.name))),
            None,
        )
        if reporter is not None and (reporter in (subject, object_id) or entities[reporter].type != "Organization"):
            reporter = None
        claims.append(
            Claim(
                key=key,
                subject=subject,
                relation=relation,
                object=object_id if literal is None else None,
                literal=literal,
                doc_id=doc_id,
                evidence=tuple(Evidence(doc_id, Span(start, end, text), pattern) for start, end, text, pattern in evidence),
                confidence=_combined_confidence(s.confidence for s in strongest.values()),
                details=_merged_details([s.details for s in statements], best.details),
                reported_by=reporter,
            )
        )
    return _cross_source(claims)


def _combined_confidence(values: Iterable[float]) -> float:
    """Several statements in one source support the claim more than one: 1 - prod(1 - c)."""
    doubt = 1.0
    for value in values:
        doubt *= 1.0 - value
    return round(min(MAX_CONFIDENCE, 1.0 - doubt), 2)


def _merged_details(all_details: list[Details], best: Details) -> Details:
    """The details a source states: an amount from the statement that gives one; hedged only
    when every statement of the fact in this source is hedged."""
    with_amount = [d for d in all_details if d.amount is not None]
    amount_from = with_amount[0] if with_amount else best
    return Details(
        amount=amount_from.amount,
        currency=amount_from.currency,
        approximate=amount_from.approximate,
        undisclosed=not with_amount and any(d.undisclosed for d in all_details),
        date=next((d.date for d in all_details if d.date), None),
        role=next((d.role for d in all_details if d.role), None),
        hedged=all(d.hedged for d in all_details),
    )


def _cross_source(claims: list[Claim]) -> tuple[Claim, ...]:
    """Mark claims of one fact from other sources as corroborating, and those that state a
    different amount (or say it was undisclosed while another gives it) as disputing."""
    by_fact: dict[tuple[str, str, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        by_fact[claim.fact].append(claim)
    result = []
    for claim in claims:
        others = [c for c in by_fact[claim.fact] if c.doc_id != claim.doc_id]
        disputes = [c.key for c in others if _disagree(claim.details, c.details)]
        result.append(replace(claim, corroborated_by=tuple(sorted(c.key for c in others)), disputed_by=tuple(sorted(disputes))))
    return tuple(sorted(result, key=lambda c: c.key))


def _disagree(a: Details, b: Details) -> bool:
    if a.amount is not None and b.amount is not None:
        return a.amount != b.amount or (a.currency or "") != (b.currency or "")
    return (a.amount is not None and b.undisclosed) or (b.amount is not None and a.undisclosed)

