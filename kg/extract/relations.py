"""Relations in one parsed document, read by the rules of ``ontology/relations.jsonl``.

A rule's dependency pattern finds the trigger and the words that hold its arguments;
generic code here turns those words into mentions (through appositions, conjunctions,
"the studio" and "it"), and reads the details every rule shares: amounts, dates, hedges,
negation, questions and the outlet the sentence credits.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

import numpy
from spacy.attrs import DEP, ENT_IOB, ENT_TYPE, HEAD, LEMMA, LOWER, MORPH, NORM, POS, SENT_START, TAG
from spacy.matcher import DependencyMatcher, Matcher
from spacy.tokens import Doc, Span as SpacySpan, Token
from spacy.vocab import Vocab

from kg.extract.mentions import ACRONYM, CAMEL_CASE, CONTEXT_WEIGHT, MentionIndex, clean_bounds, is_clean_name, list_items
from kg.extract.rules import PARTNERS, Rule, lexicon, rules
from kg.types import ENTITY_TYPES, Details, RelationMention, Span, canonical_decimal
from kg.vocab import relation_signatures

SUBJECT_DEPS = ("nsubj", "nsubjpass", "csubj")
CLIMB_DEPS = frozenset(
    {"xcomp", "advcl", "conj", "ccomp", "pcomp", "pobj", "prep", "dobj", "attr", "acomp", "amod", "nmod", "compound", "npadvmod", "oprd", "dative"}
)
HEDGE_DEPS = frozenset({"advmod", "aux", "amod", "nsubj", "prep", "npadvmod", "acomp", "xcomp"})
RELATIVE_PRONOUNS = frozenset({"who", "which", "that", "whom"})
PRONOUNS = frozenset({"it", "its", "they", "their", "them", "itself"})
PERSON_PRONOUNS = frozenset({"he", "she", "his", "her", "him"})
HEADING_FACTOR = 0.9  # a headline states a fact more loosely than a sentence
HEDGE_FACTOR = 0.8
INFERRED_FACTOR = 0.9  # an argument found through "it" or "the studio"
# What a sentence copied into a Doc of its own keeps: everything a rule's pattern can test.
SENTENCE_ATTRIBUTES = [NORM, TAG, HEAD, DEP, ENT_IOB, ENT_TYPE, LEMMA, MORPH, POS, SENT_START]
YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")



@cache
def argument_types() -> dict[str, tuple[str | None, str | None]]:
    """The type each relation's subject and object vote for: the ontology's domain and
    range when it names one class (a partnership is between organizations, a person works
    for one), nothing where it allows several (an investor is a company or a person)."""

    def single(classes: frozenset[str]) -> str | None:
        (kind,) = classes if len(classes) == 1 else (None,)
        return kind if kind in ENTITY_TYPES else None

    return {relation: (single(domain), single(range_)) for relation, (domain, range_) in relation_signatures().items()}


@dataclass(frozen=True, slots=True)
class Argument:
    mention: int
    inferred: bool  # reached through a pronoun or a description, not a name


class Extractor:
    """The compiled rules, built once per spaCy vocabulary."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.rules = {rule.id: rule for rule in rules()}
        self.lists = Matcher(vocab, validate=True)
        words = lexicon()
        # spaCy's DependencyMatcher costs time in proportion to its patterns times the
        # tokens it reads. A rule can only match a sentence that holds every word its
        # pattern names, so each sentence is matched with just the rules that can match
        # it, and most sentences with none. Words are compared as spaCy's string hashes.
        self.required_words: dict[str, list[frozenset[int]]] = {}
        self.rules_by_trigger: dict[int, set[str]] = defaultdict(set)
        self.list_nouns: set[int] = set()
        for rule in self.rules.values():
            if rule.kind == "dependency":
                DependencyMatcher(vocab, validate=True).add(rule.id, [list(rule.pattern)])  # fail early on a bad pattern
                self.required_words[rule.id] = [frozenset(map(vocab.strings.add, words)) for words in _named_words(rule)]
                for word in _trigger_words(rule):
                    self.rules_by_trigger[vocab.strings.add(word)].add(rule.id)
            else:
                nouns = sorted(words.set(rule.cue_nouns or ""))
                patterns = [
                    [{"LEMMA": {"IN": nouns}}, {"IS_PUNCT": True, "OP": "?"}, *({"LOWER": word} for word in cue)]
                    for cue in words.phrases("list_cues")
                ]
                self.lists.add(rule.id, patterns)
                self.list_nouns.update(map(vocab.strings.add, nouns))
        # A list match starts at a cue noun and may run past its sentence's end by this much.
        self.list_reach = 1 + max((len(cue) for cue in words.phrases("list_cues")), default=0)

    def _applicable_rules(self, words: set[int]) -> tuple[str, ...]:
        """The dependency rules that can match a sentence holding these words."""
        candidates = {rule_id for word in words for rule_id in self.rules_by_trigger.get(word, ())}
        return tuple(sorted(r for r in candidates if all(words & need for need in self.required_words[r])))

    @lru_cache(maxsize=4096)  # noqa: B019 - one Extractor per vocabulary lives for the process; a few KB each
    def _matcher(self, rule_ids: tuple[str, ...]) -> DependencyMatcher:
        matcher = DependencyMatcher(self.vocab)
        for rule_id in rule_ids:
            matcher.add(rule_id, [list(self.rules[rule_id].pattern)])
        return matcher

    def relations(self, doc: Doc, index: MentionIndex) -> list[RelationMention]:
        # Outlets are read in every sentence: a credited outlet is a mention even when the
        # sentence states no relation.
        sentences = list(doc.sents)
        by_word = doc.to_array([LEMMA, LOWER])
        words = [set(by_word[sentence.start : sentence.end].ravel().tolist()) for sentence in sentences]
        outlets = {sentence.start: _credited_outlets(index, sentence) for sentence in sentences}
        found: dict[tuple[int, str, int | str, int], RelationMention] = {}
        latest_partners: tuple[Argument, Argument] | None = None  # for "the deal includes ..."
        for rule, trigger, subjects, objects, literal, role in sorted(self._matches(doc, sentences, words, index), key=lambda m: (m[1].i, m[0].id)):
            sentence = trigger.sent
            if _is_question(sentence) or _is_negated(trigger):
                continue
            if rule.subject == PARTNERS:
                if latest_partners is None:
                    continue
                subjects = [Argument(latest_partners[0].mention, inferred=True)]
                objects = [Argument(latest_partners[1].mention, inferred=True)]
            pairs = _pairs(rule, subjects, objects, literal)
            if rule.relation == "partnersWith" and pairs and pairs[0][1] is not None:
                latest_partners = (pairs[0][0], pairs[0][1])
            for relation_mention in self._build(doc, index, rule, trigger, pairs, literal, role, outlets[sentence.start]):
                subject = relation_mention.subject.span.start
                target = relation_mention.object.span.start if relation_mention.object else relation_mention.literal or ""
                key = (subject, rule.relation, target, sentence.start)
                kept = found.get(key)
                if kept is None or kept.confidence < relation_mention.confidence:
                    found[key] = relation_mention
        return [found[key] for key in sorted(found, key=str)]

    def _matches(
        self, doc: Doc, sentences: list[SpacySpan], words: list[set[int]], index: MentionIndex
    ) -> Iterator[tuple[Rule, Token, list[Argument], list[Argument], str | None, str | None]]:
        """``words`` holds each sentence's lemmas and lower-case forms as string hashes."""
        for rule, nodes in self._dependency_matches(doc, sentences, words):
            trigger = nodes["trigger"]
            subjects = _arguments(index, rule.subject, nodes, trigger)
            objects = _arguments(index, rule.object, nodes, trigger) if rule.object else []
            literal = _literal(nodes[rule.literal]) if rule.literal else None
            role = _role(nodes[rule.role], objects, index) if rule.role else None
            if rule.swap:
                subjects, objects = objects, subjects
            yield rule, trigger, subjects, objects, literal, role
        seen: set[tuple[str, int]] = set()
        for match_id, start, end in self._list_matches(doc, sentences, words):
            rule = self.rules[doc.vocab.strings[match_id]]
            if (rule.id, start) in seen:
                continue
            seen.add((rule.id, start))
            cue_noun = doc[start]
            items = []
            for item_start, item_end in list_items(doc, end, cue_noun.sent.end):
                number = index.add(item_start, item_end, {rule.item_type or "Product": CONTEXT_WEIGHT})
                if number is not None:
                    items.append(Argument(number, False))
            owners = _owner_of(index, cue_noun)
            if items and owners:
                yield rule, cue_noun, owners, items, None, None

    def _list_matches(self, doc: Doc, sentences: list[SpacySpan], words: list[set[int]]) -> Iterator[tuple[int, int, int]]:
        """The list rules' matches, read only from sentences that hold a cue noun."""
        for sentence, held in zip(sentences, words):
            if held.isdisjoint(self.list_nouns):
                continue
            window = doc[sentence.start : min(len(doc), sentence.end + self.list_reach)]
            for match_id, start, end in self.lists(window):
                yield match_id, window.start + start, window.start + end

    def _dependency_matches(self, doc: Doc, sentences: list[SpacySpan], words: list[set[int]]) -> Iterator[tuple[Rule, dict[str, Token]]]:
        """Each rule's matches as named nodes. For a job title with several organizations
        below it ("VP of Product at X"), only the last one is the employer."""
        rightmost: dict[tuple[str, int], tuple[Rule, dict[str, Token]]] = {}
        values = doc.to_array(SENTENCE_ATTRIBUTES)
        matches: list[tuple[str, list[int]]] = []
        for sentence, held in zip(sentences, words):
            applicable = self._applicable_rules(held)
            if not applicable:
                continue
            # A match is one dependency tree, and a tree lies within its sentence.
            for match_id, ids in self._matcher(applicable)(_sentence_doc(sentence, values)):
                matches.append((doc.vocab.strings[match_id], [sentence.start + i for i in ids]))
        for rule_id, token_ids in sorted(matches, key=lambda m: (m[1], m[0])):
            rule = self.rules[rule_id]
            nodes = {node["RIGHT_ID"]: doc[i] for node, i in zip(rule.pattern, token_ids)}
            if rule.role is None or rule.object not in nodes:
                yield rule, nodes
                continue
            key = (rule.id, nodes["trigger"].i)
            kept = rightmost.get(key)
            if kept is None or kept[1][rule.object].i < nodes[rule.object].i:
                rightmost[key] = (rule, nodes)
        for _, (rule, nodes) in sorted(rightmost.items()):
            yield rule, nodes

    def _build(
        self,
        doc: Doc,
        index: MentionIndex,
        rule: Rule,
        trigger: Token,
        pairs: list[tuple[Argument, Argument | None]],
        literal: str | None,
        role: str | None,
        outlets: list[int],
    ) -> Iterator[RelationMention]:
        if not pairs:
            return
        sentence = trigger.sent
        evidence = _evidence(index.text_of_doc, sentence, index.offset)
        details = _details(doc, index, rule, trigger, role)
        arguments = {a.mention for pair in pairs for a in pair if a is not None}
        reported_by = next((outlet for outlet in outlets if outlet not in arguments), None)
        heading = index.in_heading(sentence.start_char)
        subject_type, object_type = argument_types()[rule.relation]
        for subject, target in pairs:
            if target is not None and (target.mention == subject.mention or index.text(target.mention) == index.text(subject.mention)):
                continue
            confidence = rule.reliability
            if details.hedged:
                confidence *= HEDGE_FACTOR
            if subject.inferred or (target is not None and target.inferred):
                confidence *= INFERRED_FACTOR
            if heading:
                confidence *= HEADING_FACTOR
            # A relation says what its ends are, as surely as its rule is reliable: enough
            # to outvote one stray tag, not a name the tagger typed the same way twice.
            if subject_type and rule.vote:
                index.vote(subject.mention, subject_type, rule.reliability)
            if target is not None and object_type and rule.vote:
                index.vote(target.mention, object_type, rule.reliability)
            yield RelationMention(
                doc_id=index.doc_id,
                subject=index.mention(subject.mention),
                relation=rule.relation,
                object=index.mention(target.mention) if target is not None else None,
                literal=literal if target is None else None,
                evidence=evidence,
                pattern=rule.id,
                confidence=round(confidence, 3),
                details=details,
                reported_by=index.mention(reported_by) if reported_by is not None else None,
            )


def _sentence_doc(sentence: SpacySpan, values: numpy.ndarray) -> Doc:
    """The sentence as a Doc of its own, which spaCy's DependencyMatcher needs (it makes one
    of a Span with ``Span.as_doc``, which also averages the sentence's vectors: slower than
    the matching). ``values`` are the whole document's SENTENCE_ATTRIBUTES."""
    rows = values[sentence.start : sentence.end].copy()
    heads = numpy.arange(len(rows)) + rows[:, SENTENCE_ATTRIBUTES.index(HEAD)].astype(numpy.int64)  # offsets, stored unsigned
    if heads.min() < 0 or heads.max() >= len(rows):
        return sentence.as_doc()  # a tree that leaves its sentence: spaCy cuts it
    iob = SENTENCE_ATTRIBUTES.index(ENT_IOB)
    if rows[0, iob] == 1:
        rows[0, iob] = 3  # an entity running on from the sentence before starts here
    alone = Doc(sentence.doc.vocab, words=[t.text for t in sentence], spaces=[bool(t.whitespace_) for t in sentence])
    return alone.from_array(SENTENCE_ATTRIBUTES, rows)


def _named_words(rule: Rule) -> list[frozenset[str]]:
    """For each node of a rule's pattern that names its words, the words it accepts."""
    named = []
    for node in rule.pattern:
        for key in ("LEMMA", "LOWER"):
            value = node["RIGHT_ATTRS"].get(key)
            if value is not None:
                named.append(frozenset(value["IN"]) if isinstance(value, dict) else frozenset({value}))
    return named


def _trigger_words(rule: Rule) -> set[str]:
    """The lemmas or lower-case forms a rule's trigger node accepts (rules.py checks each
    dependency rule names one)."""
    attributes = next(node["RIGHT_ATTRS"] for node in rule.pattern if node["RIGHT_ID"] == "trigger")
    value = attributes.get("LEMMA", attributes.get("LOWER"))
    return set(value["IN"]) if isinstance(value, dict) else {value}


def _pairs(rule: Rule, subjects: list[Argument], objects: list[Argument], literal: str | None) -> list[tuple[Argument, Argument | None]]:
    """Who relates to whom: subject x object, or among "X and Y" for rules that pair them."""
    if rule.pairs:
        pairs: list[tuple[Argument, Argument | None]] = [(a, b) for i, a in enumerate(subjects) for b in subjects[i + 1 :]]
        return pairs + [(a, b) for a in subjects for b in objects]
    if rule.literal:
        return [(subject, None) for subject in subjects] if literal else []
    return [(subject, target) for subject in subjects for target in objects]


@cache
def extractor(vocab: Vocab) -> Extractor:
    return Extractor(vocab)


# --- arguments -------------------------------------------------------------------------


def _arguments(index: MentionIndex, source: str | None, nodes: dict[str, Token], trigger: Token) -> list[Argument]:
    if source is None or source == PARTNERS:
        return []
    if source == "clause":
        subject = clause_subject(trigger)
        return resolve(index, subject) if subject is not None else []
    return resolve(index, nodes[source])


def clause_subject(token: Token) -> Token | None:
    """The subject of the clause a word belongs to, climbing through clauses and phrases:
    "X has entered into a partnership" gives X for "partnership"."""
    current = token
    for _ in range(8):
        for child in current.children:
            if child.dep_ in SUBJECT_DEPS:
                if child.lower_ in RELATIVE_PRONOUNS and current.dep_ == "relcl":
                    return current.head  # "X, who leads ..."
                return child
        if current.dep_ in ("acl", "relcl", "appos") and current.head is not current:
            return current.head  # "X, founded in 2012"
        if current.dep_ in CLIMB_DEPS and current.head is not current:
            current = current.head
            continue
        return None
    return None


def resolve(index: MentionIndex, token: Token, depth: int = 0) -> list[Argument]:
    """The mentions a word stands for: itself, a name in apposition ("the studio X"), the
    items of "companies like X", the partner in "the alliance with X", conjuncts ("X and Y"),
    or, for "it" and "the studio", the entity meant earlier in the document."""
    if depth > 3:
        return []
    found: list[Argument] = []
    number = index.at(token)
    if number is None and token.pos_ == "PROPN" and token.dep_ not in ("compound",):
        number = _name_around(index, token)  # a name the tagger missed, in an argument's place
    words = lexicon()
    if number is not None:
        found.append(Argument(number, False))
    elif token.lower_ in PRONOUNS and token.dep_ in ("nsubj", "nsubjpass", "poss"):
        antecedent = _antecedent(index, token)
        if antecedent is not None:
            found.append(Argument(antecedent, True))
    elif token.pos_ in ("NOUN", "PROPN"):
        descriptors = words.set("descriptor_nouns")
        for child in token.children:
            # "the studio X" and "the X website" name X; "X students" does not.
            named = child.dep_ == "appos" or (child.dep_ == "compound" and token.lemma_.lower() in descriptors)
            if named and index.at(child) is not None:
                found.append(Argument(index.at(child), False))  # type: ignore[arg-type]
                break
        else:
            lemma = token.lemma_.lower()
            follow = None
            if lemma in words.set("partnership_nouns"):
                follow = "with"
            elif any(child.lower_ in ("like", "including") or (child.lower_ == "as" and "such" in {c.lower_ for c in child.children}) for child in token.children):
                follow = "list"
            for child in token.children:
                if child.dep_ == "prep" and (child.lower_ == follow or (follow == "list" and child.lower_ in ("like", "including", "as"))):
                    for grandchild in child.children:
                        if grandchild.dep_ == "pobj":
                            found.extend(resolve(index, grandchild, depth + 1))
            if not found and lemma in words.set("org_nouns") and any(c.lower_ == "the" for c in token.children):
                antecedent = _described(index, token)
                if antecedent is not None:
                    found.append(Argument(antecedent, True))
    if not found and token.dep_ == "appos" and token.pos_ == "NOUN":
        found.extend(resolve(index, token.head, depth + 1))  # "X, a startup founded in 2019"
    for child in token.children:
        if child.dep_ == "conj":
            found.extend(resolve(index, child, depth + 1))
    unique: dict[int, Argument] = {}
    for argument in found:
        unique.setdefault(argument.mention, argument)
    return list(unique.values())


def _preceding(index: MentionIndex, token: Token) -> list[int]:
    """Mentions before the word, nearest first, not in a headline."""
    numbers = [n for n in index.live() if index.spans[n][1] <= token.i and not index.in_heading(index.doc[index.spans[n][0]].idx)]
    return sorted(numbers, key=lambda n: -index.spans[n][0])


def _is_organization_like(index: MentionIndex, number: int) -> bool:
    votes = index.votes[number]
    return votes.get("Organization", 0) >= max(votes.get("Person", 0), votes.get("Place", 0), 0.1)


def _antecedent(index: MentionIndex, token: Token) -> int | None:
    """"it"/"its": the subject of the clause if it is a name after the pronoun ("Known for
    its films, the studio ..."), else the nearest organization before it."""
    if token.dep_ == "poss":
        subject = clause_subject(token.head)
        if subject is not None and subject is not token and subject.i > token.i:
            for argument in resolve(index, subject, 3):
                return argument.mention
    else:  # "X said that it invested": the subject of the reporting clause
        clause = token.head
        while clause.dep_ in ("ccomp", "xcomp", "advcl", "conj") and clause.head is not clause:
            clause = clause.head
            subject = next((c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subject is not None and subject.lower_ not in PRONOUNS:
                for argument in resolve(index, subject, 3):
                    return argument.mention
    preceding = [n for n in _preceding(index, token) if _is_organization_like(index, n)]
    # The latest organization that was a sentence's subject before the nearest one: "X
    # bought Y. In 2004 it bought Z" means X bought Z.
    subjects = [n for n in preceding if index.root(n).dep_ in ("nsubj", "nsubjpass") and index.root(n).sent.start >= token.sent.start - 60]
    if subjects:
        return subjects[0]
    return preceding[0] if preceding else None


def _described(index: MentionIndex, token: Token) -> int | None:
    """"the studio": the latest mention the document described as a studio; "the company"
    or "the firm", being generic, the latest organization."""
    noun = token.lemma_.lower()
    generic = noun in {"company", "firm", "group", "organization", "organisation", "giant", "corporation"}
    for number in _preceding(index, token):
        if noun in index.descriptors[number] or (generic and _is_organization_like(index, number)):
            return number
    return None


def _owner_of(index: MentionIndex, cue_noun: Token) -> list[Argument]:
    """Whose films or products a list names: "X's films", "its films", else the clause's subject."""
    for child in cue_noun.children:
        if child.dep_ == "poss":
            return resolve(index, child)
    subject = clause_subject(cue_noun)
    return resolve(index, subject) if subject is not None else []


def _literal(token: Token) -> str | None:
    """A year, or an ISO date when the text gives a whole one, from a DATE tag or number."""
    span = next((ent for ent in token.doc.ents if ent.start <= token.i < ent.end and ent.label_ == "DATE"), None)
    text = span.text if span is not None else token.text
    match = YEAR.search(text)
    return match.group(1) if match else None


def _role(token: Token, objects: list[Argument], index: MentionIndex) -> str | None:
    """The words of a job title or duty, without the organization or the person:
    "VP of Product" from "VP of Product at X"."""
    targets = {argument.mention for argument in objects}
    excluded: set[int] = set()
    for child in token.subtree:
        names_target = any(g.dep_ == "pobj" and index.at(g) in targets for g in child.children)
        if (child.dep_ == "prep" and names_target) or child.dep_ in SUBJECT_DEPS:
            excluded.update(t.i for t in child.subtree)
        elif child.dep_ == "punct" or child.lower_ in RELATIVE_PRONOUNS:
            excluded.add(child.i)
    kept = [t for t in token.subtree if t.i not in excluded]
    if not kept:
        return None
    return "".join(t.text_with_ws for t in kept).strip(" ,") or None


# --- details every rule shares ---------------------------------------------------------


def _is_question(sentence: SpacySpan) -> bool:
    return sentence.text.rstrip().endswith("?")


def _is_negated(trigger: Token) -> bool:
    """"is not investing", "no deal with X", "neither X nor Y has ...": no claim."""
    negations, denials = lexicon().set("negations"), lexicon().set("denial_verbs")
    current: Token | None = trigger
    for _ in range(4):
        if current is None:
            break
        if current is not trigger and current.lemma_.lower() in denials:
            return True  # "X denied that it had invested"
        for child in current.children:
            if child.dep_ == "neg" or (child.dep_ in ("det", "advmod", "preconj") and child.lower_ in negations):
                return True
            if child.dep_ in SUBJECT_DEPS and any(g.dep_ in ("preconj", "det") and g.lower_ in negations for g in child.children):
                return True  # "Neither X nor Y has ..."
        current = current.head if current.dep_ in ("xcomp", "dobj", "pobj", "prep", "ccomp", "conj") and current.head is not current else None
    return False


def _is_hedged(trigger: Token) -> bool:
    """A hedge on the statement itself ("has reportedly entered", "reports indicate that",
    "a reported investment"), not anywhere in the sentence ("tools that could help")."""
    path = {trigger.i, *(t.i for t in trigger.ancestors)}
    tokens = list(trigger.sent)
    lowered = [t.lower_ for t in tokens]
    for phrase in lexicon().phrases("hedges"):
        size = len(phrase)
        for i in range(len(tokens) - size + 1):
            if tuple(lowered[i : i + size]) == phrase:
                words = tokens[i : i + size]
                if any(t.i in path or t.head.i in path and t.dep_ in HEDGE_DEPS for t in words):
                    return True
    return False


def _details(doc: Doc, index: MentionIndex, rule: Rule, trigger: Token, role: str | None) -> Details:
    words = lexicon()
    sentence = trigger.sent
    hedged = _is_hedged(trigger)
    amount = currency = None
    approximate = undisclosed = False
    if rule.relation in ("investsIn", "acquired"):
        money = [ent for ent in doc.ents if ent.label_ == "MONEY" and ent.sent == sentence]
        if money:
            nearest = min(money, key=lambda ent: abs(ent.root.i - trigger.i))
            amount, currency, approximate = parse_money(nearest)
        text = sentence.text.lower()
        undisclosed = amount is None and any(phrase in text for phrase in words.words["undisclosed"])
    date = None
    if rule.relation not in ("foundingDate",):
        for ent in doc.ents:
            if ent.label_ == "DATE" and ent.sent == sentence and ent.root.head.lower_ == "in" and ent.root.head.head in (trigger, trigger.head):
                match = YEAR.search(ent.text)
                date = match.group(1) if match else None
    return Details(amount=amount, currency=currency, approximate=approximate, undisclosed=undisclosed, date=date, role=role, hedged=hedged)


def parse_money(ent: SpacySpan) -> tuple[str | None, str | None, bool]:
    """"approximately $75 million" -> ("75000000", "USD", True)."""
    words = lexicon()
    currencies: dict[str, str] = words.words["currencies"]
    magnitudes: dict[str, int] = words.words["magnitudes"]
    text = ent.text.lower().replace(",", "")
    before = ent.doc[ent.start - 1].lower_ if ent.start > 0 else ""
    approximate = any(f" {phrase} " in f" {before} {text} " for phrase in words.words["approximate"])
    number = re.search(r"\d+(?:\.\d+)?", text)
    if number is None:
        return None, None, approximate
    try:
        value = Decimal(number.group(0))
    except InvalidOperation:
        return None, None, approximate
    tail = text[number.end() :].strip()
    unit = re.match(r"[a-z]+", tail)
    if unit and unit.group(0) in magnitudes:
        value *= magnitudes[unit.group(0)]
    currency = None
    for token in re.findall(r"[a-z]+\$|[$€£¥]|[a-z]+", text):
        if token in currencies:
            currency = currencies[token]
            break
    return canonical_decimal(value), currency, approximate


def _credited_outlets(index: MentionIndex, sentence: SpacySpan) -> list[int]:
    """The outlets a sentence credits: "according to X", "X reported", "told X", "reports
    from X indicate". Names the tagger missed there are read as organizations."""
    words = lexicon()
    verbs, nouns = words.set("outlet_cue_verbs"), words.set("reporting_nouns")
    outlets: list[int] = []
    for token in sentence:
        candidates: list[Token] = []
        if token.lower_ == "according" and token.i + 1 < sentence.end:
            candidates = [c for c in token.doc[token.i + 1].children if c.dep_ == "pobj"]
        elif token.lemma_.lower() in verbs and token.pos_ == "VERB":
            deps = ("nsubj",) if token.lemma_.lower() == "report" else ("dobj", "dative")
            candidates = [c for c in token.children if c.dep_ in deps]
        elif token.lower_ in nouns and token.pos_ == "NOUN":
            candidates = [g for c in token.children if c.dep_ == "prep" and c.lower_ in ("from", "by", "in") for g in c.children if g.dep_ == "pobj"]
        for candidate in candidates:
            for _ in range(3):  # "according to reporting by X"
                number = index.at(candidate)
                if number is None and candidate.pos_ == "PROPN":
                    number = _name_around(index, candidate)
                if number is not None:
                    if index.votes[number].get("Person", 0) == 0 and number not in outlets:
                        index.vote(number, "Organization", CONTEXT_WEIGHT)
                        outlets.append(number)
                    break
                follow = [g for c in candidate.children if c.dep_ == "prep" and c.lower_ in ("by", "from", "in") for g in c.children if g.dep_ == "pobj"]
                if not follow:
                    break
                candidate = follow[0]
    return outlets


def _name_around(index: MentionIndex, token: Token) -> int | None:
    """A capitalised name the tagger missed, e.g. an outlet after "according to"."""
    start = token.left_edge.i
    while start < token.i and not token.doc[start].text[:1].isupper():
        start += 1
    if not all(t.text[:1].isupper() for t in token.doc[start : token.i + 1]):
        return None
    start, end = clean_bounds(token.doc, start, token.i + 1)
    if not is_clean_name(token.doc, start, end):
        return None
    if end - start == 1 and not (CAMEL_CASE.fullmatch(token.text) or ACRONYM.fullmatch(token.text) or any(c.isdigit() for c in token.text)):
        return None  # a lone capitalised word the tagger passed over: "Secretary of State"
    return index.add(start, end, {})


def _evidence(text: str, sentence: SpacySpan, offset: int) -> Span:
    """The sentence, without the whitespace around it, in document offsets."""
    start, end = sentence.start_char, sentence.end_char
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(offset + start, offset + end, text[start:end])
