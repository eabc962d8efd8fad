"""Names in one parsed document: clean spans, typed by every cue the text offers.

spaCy's small model is the start: its entity spans are cut at line breaks and possessives,
stripped of determiners and quotes, filtered by a stop list, and given type votes from
their shape and context. Names the model misses are read where the context announces
them ("films such as ...", "according to ...").
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span as SpacySpan, Token

from kg.extract.rules import lexicon
from kg.layout import heading_lines
from kg.types import AliasLink, Mention, Span

POSSESSIVE = frozenset({"'s", "\u2019s", "'", "\u2019"})
QUOTES = frozenset("\"'\u201c\u201d\u2018\u2019\u00ab\u00bb`<>[]{}()")  # and brackets, as in "<Acme Corp>"
MAX_NAME_LENGTH = 80

# CamelCase, except the surname prefixes that make "McAdams" or "DeShawn" look like it.
CAMEL_CASE = re.compile(r"(?!(?:Mc|Mac|De|Le|La|Di|Da|Du|Van|Von|O)[A-Z])[A-Z][a-z]+[A-Z]\w*")
ACRONYM = re.compile(r"[A-Z][A-Z&\-]+[A-Z]")
CONTEXT_WEIGHT = 3.0  # a cue like "VP of X" or "films such as" outweighs the tagger
SHAPE_WEIGHT = 0.75  # name shape (suffix "Inc", CamelCase) is weaker evidence than a tag


@dataclass
class MentionIndex:
    """The mentions of one document, found by token, growing as rules read more names."""

    doc: Doc
    doc_id: str
    text_of_doc: str  # Doc.text, which spaCy rebuilds on every access
    headings: list[tuple[int, int]]
    offset: int = 0  # where this parsed piece starts in the document's text
    by_start: dict[int, int] = field(default_factory=dict)  # token index -> mention number
    spans: list[tuple[int, int]] = field(default_factory=list)  # token spans, end exclusive
    votes: list[dict[str, float]] = field(default_factory=list)
    owners: list[str | None] = field(default_factory=list)
    descriptors: list[set[str]] = field(default_factory=list)  # "studio" for "film studio X"
    token_owner: dict[int, int] = field(default_factory=dict)  # token index -> mention number
    dropped_names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._heading_starts = [start for start, _ in self.headings]

    def in_heading(self, char: int) -> bool:
        at = bisect_right(self._heading_starts, char) - 1
        return at >= 0 and self.headings[at][0] <= char < self.headings[at][1]

    def add(self, start: int, end: int, votes: dict[str, float], owner: str | None = None) -> int | None:
        """Register tokens [start, end) as a mention; returns its number (an existing one if
        the tokens already belong to a mention)."""
        if start >= end:
            return None
        overlapping = sorted({self.token_owner[i] for i in range(start, end) if i in self.token_owner})
        if overlapping and all(start <= self.spans[n][0] and self.spans[n][1] <= end for n in overlapping):
            # A cue read a longer name than the tagger ("Stratus X" for "Stratus"): widen.
            number = overlapping[0]
            for other in overlapping[1:]:
                for kind, weight in self.votes[other].items():
                    self.vote(number, kind, weight)
                self.spans[other] = (self.spans[other][0], self.spans[other][0])  # emptied
            self.spans[number] = (start, end)
            for i in range(start, end):
                self.token_owner[i] = number
        elif overlapping:
            number = overlapping[0]
        if overlapping:
            for kind, weight in votes.items():
                self.vote(number, kind, weight)
            return number
        number = len(self.spans)
        self.spans.append((start, end))
        self.votes.append(defaultdict(float, votes))
        self.owners.append(owner)
        self.descriptors.append(set())
        for i in range(start, end):
            self.token_owner[i] = number
        return number

    def at(self, token: Token) -> int | None:
        return self.token_owner.get(token.i)

    def vote(self, number: int, kind: str, weight: float) -> None:
        self.votes[number][kind] += weight

    def text(self, number: int) -> str:
        start, end = self.char_span(number)
        return self.text_of_doc[start:end]

    def char_span(self, number: int) -> tuple[int, int]:
        start, end = self.spans[number]
        last = self.doc[end - 1]
        end_char = last.idx + len(last.text)
        # The tokenizer keeps a sentence's full stop on "X." ("the Stratus X."); a name
        # keeps it only when it is an abbreviation ("Litware Inc.").
        if last.text.endswith(".") and len(last.text) > 1 and last.text[:-1].lower() not in lexicon().set("abbreviations"):
            at_sentence_end = end == len(self.doc) or self.doc[end].is_sent_start or self.doc[end].is_space
            if at_sentence_end:
                end_char -= 1
        return self.doc[start].idx, end_char

    def root(self, number: int) -> Token:
        start, end = self.spans[number]
        return self.doc[start:end].root

    def mention(self, number: int) -> Mention:
        start, end = self.char_span(number)
        text = self.text_of_doc[start:end]
        votes = tuple(sorted((kind, round(weight, 3)) for kind, weight in self.votes[number].items() if weight > 0))
        span = Span(self.offset + start, self.offset + end, text)
        return Mention(self.doc_id, span, votes, self.in_heading(start), self.owners[number])

    def numbers(self) -> Iterator[int]:
        """Every mention (one widened into another leaves an empty span behind)."""
        for number, (start, end) in enumerate(self.spans):
            if start < end:
                yield number

    def live(self) -> Iterator[int]:
        """Every mention not dropped by a document-level finding ("... (LLM)")."""
        for number in self.numbers():
            if self.text(number).lower() not in self.dropped_names:
                yield number


def clean_bounds(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Trim determiners, possessives, quotes and punctuation from both ends of a token span."""
    words = lexicon().set("determiners")
    while start < end and (
        doc[start].is_punct
        or doc[start].is_space
        or doc[start].text in QUOTES
        or (doc[start].lower_ in words and doc[start].text.islower())
    ):
        start += 1
    while end > start and (
        doc[end - 1].is_punct or doc[end - 1].is_space or doc[end - 1].text in QUOTES or doc[end - 1].text in POSSESSIVE
    ):
        end -= 1
    return start, end


def _pieces(span: SpacySpan, names: frozenset[str]) -> Iterator[tuple[int, int, bool]]:
    """Split an entity span at line breaks, at words that never sit inside a name ("X by Y"),
    and at a possessive whose owner the document names on its own ("X's Y", not "Margie's
    Travel").

    Yields (start, end, owned): ``owned`` marks a piece written "X's <piece>", whose owner X
    is the piece just before it."""
    breakers = lexicon().set("name_breakers")
    start, owned = span.start, False
    doc = span.doc
    for token in span:
        possessive = token.text in POSSESSIVE and doc[start : token.i].text in names
        if token.is_space or possessive or (token.lower_ in breakers and not token.is_upper):
            if token.i > start:
                yield start, token.i, owned
            start, owned = token.i + 1, possessive
    if start < span.end:
        yield start, span.end, owned


def is_clean_name(doc: Doc, start: int, end: int) -> bool:
    text = doc[start:end].text
    if not text or len(text) > MAX_NAME_LENGTH or "\n" in text:
        return False
    if not any(ch.isupper() or ch.isdigit() for ch in text) or not any(ch.isalpha() for ch in text):
        return False
    if text.lower() in lexicon().set("stop_names"):
        return False
    # "Oscar-winning", "Acme-backed": a name fused into a modifier is not a mention of it.
    after = doc[end] if end < len(doc) else None
    if after is not None and after.text in {"-", "\u2013"} and not doc[end - 1].whitespace_:
        return False
    before = doc[start - 1] if start > 0 else None
    return not (before is not None and before.text in {"-", "/"} and not before.whitespace_)


def _shape_votes(doc: Doc, start: int, end: int) -> dict[str, float]:
    """What a name's own form says about its type."""
    words = lexicon()
    tokens = doc[start:end]
    votes: dict[str, float] = defaultdict(float)
    if tokens[-1].lower_ in words.set("org_suffixes") and len(tokens) > 1:
        votes["Organization"] += 2 * SHAPE_WEIGHT
    text = tokens.text
    if (len(tokens) == 1 and CAMEL_CASE.fullmatch(text)) or ACRONYM.fullmatch(text):
        votes["Organization"] += 1.25  # "NovaCorp", "ACME", "AFL-CIO": not how people are named
    if re.search(r"\d+(\.\d+)+$|\bv\d+$", text):
        votes["Product"] += SHAPE_WEIGHT  # version numbers
    elif len(tokens) > 1 and tokens[-1].like_num and tokens[0].text[:1].isupper():
        votes["Product"] += 1.25  # "Nimbus 3", "Model 700": people's names never end in a number
    return votes


def _context_votes(index: MentionIndex, number: int) -> None:
    """Types the neighbours give: "film studio X", "X, VP of ...", "the X video model"."""
    words = lexicon()
    org_nouns, titles, products = words.set("org_nouns"), words.set("person_titles"), words.set("product_nouns")
    root = index.root(number)
    for child in root.children:
        if child.dep_ in ("compound", "appos", "nmod") and index.at(child) is None:
            if child.lemma_.lower() in org_nouns:
                index.vote(number, "Organization", 2.0)
                index.descriptors[number].add(child.lemma_.lower())
            elif child.dep_ == "appos" and child.lower_ in titles:
                index.vote(number, "Person", CONTEXT_WEIGHT)
            elif child.dep_ == "compound" and child.lower_ in titles and child.text[:1].isupper():
                index.vote(number, "Person", CONTEXT_WEIGHT)  # "Chief Executive Jane Roe"
    head = root.head
    if head is not root and index.at(head) is None:
        lemma = head.lemma_.lower()
        if root.dep_ in ("compound", "nmod", "amod") and lemma in products:
            index.vote(number, "Product", CONTEXT_WEIGHT)  # "the X video generation model"
        elif root.dep_ in ("compound", "nmod") and lemma in words.set("unit_nouns"):
            index.vote(number, "Organization", 2.0)  # "its X division" (not "a Paris studio")
        elif root.dep_ == "appos" and lemma in org_nouns:
            index.vote(number, "Organization", 2.0)
            index.descriptors[number].add(lemma)


def _title_run(doc: Doc, start: int, limit: int) -> tuple[int, int] | None:
    """The name starting at ``start``: capitalised words, with lower-case connectors inside
    ("Everything Everywhere All at Once"), ending before a comma, "and" or a verb. None when
    the capitalised word is a modifier ("Oscar-winning")."""
    connectors = lexicon().set("name_connectors")
    end = i = start
    while i < limit:
        token = doc[i]
        glued = not token.whitespace_ and i + 1 < limit
        next_text = doc[i + 1].text if i + 1 < limit else ""
        if token.is_space:
            if "\n" in token.text:
                break
            i += 1  # markup blanked inside a title ("*Blue Harbor*")
            continue
        if token.text[:1].isupper() or (token.like_num and i > start):
            end = i + 1
        elif token.text in {"-", "\u2013"} and i > start and not doc[i - 1].whitespace_ and glued:
            if not (next_text[:1].isupper() or next_text[:1].isdigit()):
                return None  # "Oscar-winning"
        elif not (token.lower_ in connectors and i > start and next_text[:1].isupper()):
            break
        i += 1
    return (start, end) if end > start else None


def _skip_modifier(doc: Doc, i: int, limit: int) -> int:
    """Past a hyphenated modifier such as "Oscar-winning"."""
    i += 1
    while i < limit and (doc[i].text in {"-", "\u2013"} or doc[i].is_lower) and not doc[i - 1].whitespace_:
        i += 1
    return i


def list_items(doc: Doc, cue_end: int, sentence_end: int) -> list[tuple[int, int]]:
    """The names listed after a cue ("such as X, Y and the recent Z"), as token spans."""
    items: list[tuple[int, int]] = []
    i, modifiers = cue_end, 0
    while i < sentence_end:
        token = doc[i]
        if token.text[:1].isupper():
            run = _title_run(doc, i, sentence_end)
            if run is None:
                i, modifiers = _skip_modifier(doc, i, sentence_end), modifiers + 1
                continue
            items.append(run)
            i, modifiers = run[1], 0
            after_separator = i
            while after_separator < sentence_end and doc[after_separator].is_space and "\n" not in doc[after_separator].text:
                after_separator += 1
            if after_separator < sentence_end and doc[after_separator].text == ",":
                after_separator += 1
            if after_separator < sentence_end and doc[after_separator].lower_ in {"and", "or"}:
                after_separator += 1
            if after_separator == i:
                break
            i = after_separator
        elif (token.is_lower and token.pos_ in ("DET", "ADJ", "ADV", "NUM") and modifiers < 4) or (token.is_space and "\n" not in token.text):
            i, modifiers = i + 1, modifiers + 1
        else:
            break
    return items


def find_mentions(doc: Doc, doc_id: str, offset: int, text: str) -> tuple[MentionIndex, list[AliasLink]]:
    """All clean, typed names of a parsed document (or piece of one, starting at
    ``offset``), and the aliases it defines; ``text`` is the doc's text."""
    words = lexicon()
    ner_types: dict[str, str] = words.words["ner_types"]
    index = MentionIndex(doc, doc_id, text, heading_lines(text), offset)
    tagged = [ent for ent in doc.ents if ent.label_ in ner_types]
    names = frozenset(ent.text for ent in tagged)
    for ent in tagged:
        kind = ner_types[ent.label_]
        previous: int | None = None
        for start, end, owned in _pieces(ent, names):
            start, end = clean_bounds(doc, start, end)
            if not is_clean_name(doc, start, end):
                previous = None
                continue
            owner = index.text(previous) if owned and previous is not None else None
            votes = defaultdict(float, {kind: 1.0})
            for shape_kind, weight in _shape_votes(doc, start, end).items():
                votes[shape_kind] += weight
            previous = index.add(start, end, votes, owner)
    _split_joined_names(index)
    _propagate_names(index)
    aliases = _acronyms(index)
    for number in index.numbers():
        _context_votes(index, number)
    aliases += _surnames(index)
    return index, aliases


def _split_joined_names(index: MentionIndex) -> None:
    """"the Acme Widgets Co partnership": a tag that runs two names together, each of which
    the document uses on its own at least as often as the joined form. (A real name made
    of two names, "Acme Widgets", is split too when rarer than its parts; resolution
    joins its short form back.)"""
    doc = index.doc
    counts: dict[str, int] = defaultdict(int)
    for number in index.numbers():
        counts[index.text(number)] += 1
    for number in index.numbers():
        start, end = index.spans[number]
        joined = counts[doc[start:end].text]
        for cut in range(end - 1, start, -1):  # the longest left part first
            if min(counts.get(doc[start:cut].text, 0), counts.get(doc[cut:end].text, 0)) >= joined:
                index.spans[number] = (start, cut)
                for i in range(cut, end):
                    del index.token_owner[i]
                index.add(cut, end, dict(index.votes[number]))
                break


def _propagate_names(index: MentionIndex) -> None:
    """The tagger is not consistent: where it named "Acme Corp" once, every other "Acme
    Corp" of the document is a mention too (of the same type, with less weight)."""
    from spacy.matcher import PhraseMatcher

    doc = index.doc
    matcher = PhraseMatcher(doc.vocab)
    votes_by_name: dict[str, dict[str, float]] = {}
    for number in index.numbers():
        start, end = index.spans[number]
        name = doc[start:end].text
        if index.in_heading(doc[start].idx) or name in votes_by_name:
            continue
        votes_by_name[name] = {kind: 0.5 for kind, weight in index.votes[number].items() if weight > 0}
        matcher.add(name, [Doc(doc.vocab, words=[t.text for t in doc[start:end]])])
    for match_id, start, end in sorted(matcher(doc), key=lambda m: (m[1], -m[2])):
        if any(i in index.token_owner for i in range(start, end)) or not is_clean_name(doc, start, end):
            continue
        index.add(start, end, dict(votes_by_name[doc.vocab.strings[match_id]]))


def _initials(words: Iterable[str]) -> str:
    return "".join(word[0] for word in words if word[:1].isupper())


def _acronyms(index: MentionIndex) -> list[AliasLink]:
    """"Federal Trade Commission (FTC)" joins the acronym to its long form; "large language
    model (LLM)" says the acronym names a thing, not an entity."""
    doc = index.doc
    links: list[AliasLink] = []
    for i, token in enumerate(doc[:-2]):
        if token.text != "(" or doc[i + 2].text != ")":
            continue
        acronym = doc[i + 1].text
        if not re.fullmatch(r"[A-Z][A-Z0-9&\-]{1,9}", acronym):
            continue
        before = doc[max(0, i - 8) : i]
        number = index.at(doc[i - 1]) if i > 0 else None
        if number is not None and _initials(index.text(number).split()).upper().startswith(acronym.replace("-", "")[:2]):
            links.append(AliasLink(index.doc_id, index.text(number), acronym, "acronym"))
            acronym_number = index.add(i + 1, i + 2, dict(index.votes[number]))
            if acronym_number is not None:
                for kind, weight in index.votes[number].items():
                    index.vote(acronym_number, kind, weight)
        elif before.text and before[-1].text.islower():
            index.dropped_names.add(acronym.lower())
    return links


def _surnames(index: MentionIndex) -> list[AliasLink]:
    """A lone surname after the full name names the same person."""
    votes_by_name: dict[str, Counter[str]] = defaultdict(Counter)
    for number in index.numbers():
        votes_by_name[index.text(number)].update(index.votes[number])
    full: dict[str, str] = {}
    for name, votes in sorted(votes_by_name.items()):
        parts = name.split()
        if len(parts) >= 2 and votes["Person"] > 0 and votes["Person"] >= max(votes.values()):
            full.setdefault(parts[-1], name)
    links = []
    for number in index.numbers():
        name = index.text(number)
        if " " not in name and name in full:
            index.vote(number, "Person", 1.0)
            links.append(AliasLink(index.doc_id, full[name], name, "surname"))
    return links
