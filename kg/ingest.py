"""Read news articles from .txt, .md and .html files into Documents.

``Document.text`` is the file exactly as decoded, because every evidence offset in the
graph points into it. The NLP reads ``Document.plain`` instead: a copy of the same
length in which markup is overwritten with whitespace, so any offset found in
``plain`` is valid in ``text`` unchanged.
"""
from __future__ import annotations

import datetime
import gzip
import html
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from itertools import islice
from pathlib import Path
from typing import TypeVar

from kg.types import Document

SUPPORTED_SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
# A corpus file holds many articles, one JSON object per line.
CORPUS = "jsonl"
CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz")

BOM = "\ufeff"

_T = TypeVar("_T")


class SourceError(ValueError):
    """An input path that cannot be read as an article; the message names the path."""


@dataclass(frozen=True, slots=True)
class _Page:
    """What a format reader finds in one text."""

    plain: str
    title: str | None
    date: str | None


# --- finding and reading files -------------------------------------------------------


def find_sources(paths: Iterable[Path]) -> list[Path]:
    """The article files named by ``paths``: files as given, folders walked recursively.

    Folders are walked in sorted name order so that builds are reproducible; hidden
    entries are skipped, symlinks are followed, and each real file and folder is
    visited once, so a symlink loop ends and a linked file is not read twice.
    """
    found: list[Path] = []
    seen_files: set[str] = set()
    seen_dirs: set[str] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        candidates = _walk(path, seen_dirs) if path.is_dir() else iter([path])
        for file in candidates:
            real = os.path.realpath(file)
            if _format_of(file) is not None and real not in seen_files:
                seen_files.add(real)
                found.append(file)
    return found


def _walk(folder: Path, seen_dirs: set[str]) -> Iterator[Path]:
    real = os.path.realpath(folder)
    if real in seen_dirs:
        return
    seen_dirs.add(real)
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as err:
        raise SourceError(f"{folder}: cannot list folder ({err.strerror})") from err
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        # is_dir/is_file follow symlinks; a dangling link is neither and is skipped.
        if entry.is_dir():
            yield from _walk(path, seen_dirs)
        elif entry.is_file():
            yield path


def _format_of(path: Path) -> str | None:
    if path.name.lower().endswith(CORPUS_SUFFIXES):
        return CORPUS
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


# Files above this size are refused, naming the limit: a scraped corpus's 50 MB "article"
# is a dump, not news, and reading it would cost memory every other file needs.
MAX_BYTES = 20_000_000
BINARY_SIGNATURES = {
    b"%PDF": "a PDF file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or a Word/Office file)",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Office file",
}


def _binary_kind(data: bytes) -> str | None:
    """What a binary file is, when it is one: a known signature, or NUL bytes early on."""
    for signature, kind in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return "a binary file" if b"\x00" in data[:8192] else None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that yields no document, and why."""

    path: str
    reason: str


def documents(paths: Iterable[Path], *, encoding: str = "utf-8", max_bytes: int = MAX_BYTES) -> Iterator[Document | Skipped]:
    """Every article under ``paths``, streamed: files one by one, JSON Lines corpora record
    by record. What cannot be read is reported as ``Skipped`` and the stream goes on."""
    for path in find_sources(paths):
        if _format_of(path) == CORPUS:
            yield from read_corpus(path)
            continue
        try:
            yield read_document(path, encoding=encoding, max_bytes=max_bytes)
        except SourceError as error:
            yield Skipped(path.as_posix(), str(error).removeprefix(f"{path}: "))


def read_corpus(path: Path) -> Iterator[Document | Skipped]:
    """A JSON Lines corpus (optionally gzipped), one article per line with ``id`` and
    ``text`` and optional ``title``, ``date`` and ``url``; read line by line, never whole.
    Offsets of evidence refer to each record's ``text`` as decoded from JSON."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield _corpus_record(path, number, line)
    except (OSError, EOFError, UnicodeDecodeError) as error:
        yield Skipped(path.as_posix(), f"cannot read the rest of the corpus ({error})")


# JSON can escape half of a surrogate pair ("\ud800"), which no encoder, spaCy's included,
# accepts: each becomes U+FFFD, one code point for one, so offsets stay those of the text.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _corpus_record(path: Path, number: int, line: str) -> Document | Skipped:
    where = f"{path.as_posix()}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return Skipped(where, f"not JSON ({error.msg} at column {error.colno})")
    if not isinstance(record, dict) or not isinstance(record.get("id"), (str, int)) or not isinstance(record.get("text"), str):
        return Skipped(where, "a record needs an 'id' and a 'text' string")
    record = {key: LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value for key, value in record.items()}
    title = record.get("title") if isinstance(record.get("title"), str) else None
    document = _build(record["text"], id=str(record["id"]), fmt="txt", path=str(record.get("url") or where), title=title or None)
    date = _record_date(record.get("date"))
    return replace(document, date=date) if date else document


def _record_date(value: object) -> str | None:
    """An ISO date from a record's date field ("2026-07-05", "26-FEB-1987 15:01:01.79")."""
    if not isinstance(value, str):
        return None
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    if iso:
        year, month, day = map(int, iso.groups())
    else:
        written = re.match(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})", value)
        if not written or written.group(2).lower() not in _MONTHS:
            return None
        day, month, year = int(written.group(1)), _MONTHS[written.group(2).lower()], int(written.group(3))
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def read_document(
    path: Path, *, display_path: str | None = None, encoding: str = "utf-8", max_bytes: int = MAX_BYTES
) -> Document:
    """Read one article file; ``display_path`` replaces the path recorded in the graph.

    Offsets always refer to the text as decoded with ``encoding``."""
    path = Path(path)
    fmt = _format_of(path)
    if fmt is None:
        expected = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise SourceError(f"{path}: unsupported file type {path.suffix!r} (expected {expected})")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(f"{path}: {size:,} bytes is over the limit of {max_bytes:,} bytes per file (--max-bytes)")
        data = path.read_bytes()
    except OSError as err:
        raise SourceError(f"{path}: cannot read file ({err.strerror})") from err
    kind = _binary_kind(data)
    if kind is not None:
        raise SourceError(f"{path}: {kind}, not text")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise SourceError(f"{path}: not valid {encoding.upper()} at byte offset {err.start} ({err.reason}); try --encoding") from err
    except LookupError as err:
        raise SourceError(f"{path}: unknown encoding {encoding!r}") from err
    if not text.strip():
        raise SourceError(f"{path}: empty (no text)")
    shown = display_path if display_path is not None else path.as_posix()
    return _build(text, id=path.stem, fmt=fmt, path=shown, title=None)


def document_from_text(
    text: str, *, id: str, format: str = "txt", title: str | None = None, path: str = ""
) -> Document:
    """A Document from a string (the notebook API); finds a title when none is given."""
    if format not in _READERS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(_READERS)}")
    return _build(text, id=id, fmt=format, path=path, title=title)


def _build(text: str, *, id: str, fmt: str, path: str, title: str | None) -> Document:
    # A BOM is part of the text as decoded, but the NLP must not see it; blanking it
    # first also lets every reader match markup anchored at the start of the file.
    # Without one, the readers get the text itself, so plain text costs no copy.
    source = text.replace(BOM, " ") if BOM in text else text
    page = _READERS[fmt](source)
    return Document(
        id=id,
        text=text,
        path=path,
        format=fmt,
        title=title if title is not None else page.title,
        date=page.date,
        plain=page.plain,
    )


# --- dates and headlines ---------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday "
    "mon tue tues wed thu thur thurs fri sat sun".split()
)
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)"),
    re.compile(
        rf"\b(?P<month>{_MONTH_NAME})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_NAME})\.?,?\s+(?P<year>\d{{4}})\b",
        re.IGNORECASE,
    ),
)
# Numbers, times and "a.m." count as date words when deciding whether a line is a dateline.
_NUMERIC_DATE_WORD = re.compile(r"\d[\d,./:-]*(?:st|nd|rd|th)?|[ap]\.?m\.?", re.IGNORECASE)


def _find_date(text: str) -> str | None:
    """The first valid calendar date written in ``text``, as "YYYY-MM-DD"."""
    matches = sorted((m for pattern in _DATE_PATTERNS for m in pattern.finditer(text)), key=re.Match.start)
    return next((iso for iso in map(_iso_date, matches) if iso), None)


def _iso_date(match: re.Match[str]) -> str | None:
    month = match["month"]
    number = int(month) if month.isdigit() else _MONTHS[month.lower()]
    try:
        return datetime.date(int(match["year"]), number, int(match["day"])).isoformat()
    except ValueError:  # e.g. February 30
        return None


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _leading_lines(text: str, count: int) -> list[str]:
    """The first ``count`` non-empty lines, whitespace collapsed."""
    return list(islice(filter(None, map(_collapse, text.splitlines())), count))


def _is_date_word(word: str) -> bool:
    bare = word.strip(".,;:()[]").lower()
    return bare in _MONTHS or bare in _WEEKDAYS or bool(_NUMERIC_DATE_WORD.fullmatch(bare))


def _looks_like_headline(line: str) -> bool:
    words = line.split()
    if not 4 <= len(words) <= 20:
        return False
    # Sentences end in punctuation; headlines do not.
    if line[-1] in ".,;:" or re.search(r"\.['\"’”»]+$", line):
        return False
    if words[0].lower() == "by":  # a byline is title-case but names the writer
        return False
    if 2 * sum(map(_is_date_word, words)) >= len(words):
        return False
    # Short words ("of", "and", "to") stay lower case in title case, so judge the long ones.
    long_words = [w for w in words if sum(c.isalpha() for c in w) >= 4] or words
    capitalized = sum(next((c for c in w if c.isalpha()), "").isupper() for w in long_words)
    return capitalized >= 0.6 * len(long_words)


# --- plain text ------------------------------------------------------------------------


def _read_txt(source: str) -> _Page:
    lines = _leading_lines(source, 5)
    title = _txt_title(lines)
    short = (line for line in lines[:3] if len(line.split()) <= 8)
    date = next((iso for iso in map(_find_date, short) if iso), None)
    return _Page(source, title, date)


def _txt_title(lines: list[str]) -> str | None:
    for line in lines:
        if _looks_like_headline(line):
            return line
        if len(line.split()) > 20:  # the body has begun: a title-case line after it is a subheading
            return None
    return None


# --- Markdown --------------------------------------------------------------------------


class _Canvas:
    """A same-length copy of a text in which markup is overwritten with spaces."""

    def __init__(self, text: str) -> None:
        self._chars = list(text)

    def text(self) -> str:
        return "".join(self._chars)

    def blank(self, start: int, end: int) -> None:
        # Newlines stay, so that later line-anchored patterns and the NLP still see lines.
        for i in range(start, end):
            if self._chars[i] != "\n":
                self._chars[i] = " "

    def blank_matches(self, pattern: re.Pattern[str], *groups: str) -> list[re.Match[str]]:
        """Blank the given groups (default: all) of every match in the current text."""
        matches = list(pattern.finditer(self.text()))
        for match in matches:
            for group in groups or (0,):
                start, end = match.span(group)
                if start >= 0:  # an optional group that did not take part spans (-1, -1)
                    self.blank(start, end)
        return matches


_FRONT_MATTER = re.compile(r"\A ?---[ \t]*\r?\n(?P<body>.*?)^(?:---|\.\.\.)[ \t]*\r?$", re.DOTALL | re.MULTILINE)
_FRONT_MATTER_FIELD = re.compile(r"(?P<key>[A-Za-z_][\w-]*)[ \t]*:[ \t]*(?P<value>.*)")
_FENCE_OPEN = re.compile(r"[ \t]{0,3}(?:(?P<ticks>`{3,})(?!.*`)|(?P<tildes>~{3,}))")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S.*$", re.MULTILINE)
# Setext underlines and thematic breaks: lines made only of = or of -, * or _.
_RULE_LINE = re.compile(r"^[ \t]{0,3}(?:=+|-+|(?:[-*_][ \t]*){3,})[ \t\r]*$", re.MULTILINE)
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*>[ \t]?)+", re.MULTILINE)
_ATX_HEADING = re.compile(
    r"^[ \t]*(?P<marks>#{1,6})(?=[ \t\r]|$)(?P<content>.*?)(?P<closing>(?<=[ \t])#+)?[ \t\r]*$", re.MULTILINE
)
_LIST_MARKER = re.compile(r"^[ \t]*(?P<marker>[-*+]|\d{1,9}[.)])(?=[ \t])", re.MULTILINE)
_LINK_TARGET = r"(?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\[\]\n]*\])"  # "(url)", one nested pair allowed, or "[ref]"
_IMAGE = re.compile(rf"!\[[^\[\]\n]*\]{_LINK_TARGET}")
_LINK = re.compile(rf"(?P<open>\[)[^\[\]\n]*(?P<target>\]{_LINK_TARGET})")
_BACKTICK = re.compile(r"`+")
# Paired * or _ runs around non-space text, not inside a word (snake_case, 5*3*2 stay).
_EMPHASIS = re.compile(r"(?<![\w*\\])(?P<open>(?P<mark>\*{1,3}|_{1,3}))(?=\S).+?(?<=\S)(?P<close>(?P=mark))(?![\w*])")


def _read_md(source: str) -> _Page:
    canvas = _Canvas(source)
    fields = _blank_front_matter(canvas)
    _blank_fenced_code(canvas)
    canvas.blank_matches(_HTML_COMMENT)
    canvas.blank_matches(_LINK_DEFINITION)
    canvas.blank_matches(_RULE_LINE)
    canvas.blank_matches(_QUOTE_MARKERS)
    headings = canvas.blank_matches(_ATX_HEADING, "marks", "closing")
    canvas.blank_matches(_LIST_MARKER, "marker")
    canvas.blank_matches(_IMAGE)
    canvas.blank_matches(_LINK, "open", "target")
    canvas.blank_matches(_BACKTICK)
    # Each pass strips one level of nesting ("**a *b* c**"); every pass blanks something.
    while canvas.blank_matches(_EMPHASIS, "open", "close"):
        pass
    plain = canvas.text()
    title = _collapse(fields.get("title", "")) or _first_heading(headings, plain)
    date = _find_date(fields.get("date", ""))
    return _Page(plain, title, date)


def _blank_front_matter(canvas: _Canvas) -> dict[str, str]:
    """Blank a leading YAML block and return its simple "key: value" fields."""
    match = canvas.blank_matches(_FRONT_MATTER)
    if not match:
        return {}
    fields: dict[str, str] = {}
    for line in match[0]["body"].splitlines():
        field = _FRONT_MATTER_FIELD.fullmatch(line.strip())
        if field:
            fields.setdefault(field["key"].lower(), _unquote(field["value"].strip()))
    return fields


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _blank_fenced_code(canvas: _Canvas) -> None:
    text = canvas.text()
    opened_at: int | None = None
    fence = ""
    for line in re.finditer(r"^.*$", text, re.MULTILINE):
        if opened_at is None:
            opening = _FENCE_OPEN.match(line.group())
            if opening:
                opened_at, fence = line.start(), opening["ticks"] or opening["tildes"]
        elif _closes_fence(line.group(), fence):
            canvas.blank(opened_at, line.end())
            opened_at = None
    if opened_at is not None:  # an unclosed fence runs to the end of the document
        canvas.blank(opened_at, len(text))


def _closes_fence(line: str, fence: str) -> bool:
    bare = line.strip()
    return len(bare) >= len(fence) and bare == fence[0] * len(bare)


def _first_heading(headings: list[re.Match[str]], plain: str) -> str | None:
    """The text of the first level-1 heading, with its inline markup already blanked."""
    for heading in headings:
        if heading["marks"] == "#":
            text = _collapse(plain[heading.start("content") : heading.end("content")])
            if text:
                return text
    return None


# --- HTML ------------------------------------------------------------------------------

# Elements whose whole content is page furniture or code, never article prose. <title>
# is here too: it is read for Document.title but must not reach the NLP.
_HIDDEN_TAGS = frozenset(
    "script style noscript template svg nav header footer aside form iframe button select title".split()
)
# Words in an id or class that mark navigation, menus, share bars, comment threads...
_CHROME_WORDS = frozenset(
    "nav navbar navigation menu footer cookie cookies share sharing related comment comments".split()
)
_NEVER_CHROME = frozenset({"html", "body", "article", "main"})  # e.g. <body class="has-nav">
_BLOCK_TAGS = frozenset(
    "p div br li h1 h2 h3 h4 h5 h6 tr td th section article blockquote pre ul ol table dd dt figcaption hr".split()
)
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_ROOT_TAGS = ("article", "main")  # in order of preference
_WORD_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")  # "mainNav" -> main, Nav
_SITE_SUFFIX = re.compile(r"(?P<head>.+)\s[|-]\s(?P<site>.+)")


@dataclass(frozen=True, slots=True)
class _Open:
    """An element that has started and not yet ended."""

    tag: str
    hides: bool
    is_root: bool  # the first <article> or <main> outside hidden content
    capture: int | None  # index into _HtmlScanner.captures when its text is wanted


@dataclass(frozen=True, slots=True)
class _Event:
    """One thing the parser reported, starting at ``start`` and running to the next event."""

    start: int
    kind: str  # "text", "ref", "tag" or "block" (a block-level tag)
    length: int  # characters reported as text; the rest up to the next event is markup
    hidden: bool
    scope: frozenset[str]  # the root elements ("article", "main") around it
    capture: int | None


class _HtmlScanner(HTMLParser):
    """Records where every tag, reference and piece of text starts in the source."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)  # references must be seen to be measured
        self.source = source
        # getpos() counts lines split at "\n" only, so "\r" stays inside a line here too.
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._stack: list[_Open] = []
        self.events: list[_Event] = []
        self.captures: list[tuple[str, frozenset[str]]] = []  # (tag, scope) of <title>, <h1>
        self.meta: dict[str, str] = {}
        self.times: list[tuple[str, frozenset[str]]] = []  # (datetime attribute, scope)
        self.roots: set[str] = set()
        self._feed_all()
        self.ends = [e.start for e in self.events[1:]] + [len(source)]

    def _feed_all(self) -> None:
        self.feed(self.source)
        # After a malformed "&#" the parser stops until more input arrives, and close()
        # would flush the rest as text, tags included; empty feeds make it resume.
        pending = len(self.rawdata)
        while pending:
            self.feed("")
            if len(self.rawdata) == pending:
                break
            pending = len(self.rawdata)
        self.close()

    # Parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self._note_metadata(tag, values)
        self._record("block" if tag in _BLOCK_TAGS else "tag")
        if tag not in _VOID_TAGS:
            self._open(tag, values)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._note_metadata(tag, {name: value or "" for name, value in attrs})
        self._record("block" if tag in _BLOCK_TAGS else "tag")

    def handle_endtag(self, tag: str) -> None:
        self._record("block" if tag in _BLOCK_TAGS else "tag")
        # Close the element and anything left open inside it (unclosed <p>, <li>...);
        # an end tag with no open element is ignored, as browsers do.
        for depth in range(len(self._stack) - 1, -1, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                break

    def handle_data(self, data: str) -> None:
        self._record("text", len(data))

    def handle_charref(self, name: str) -> None:
        self._record("ref")

    def handle_entityref(self, name: str) -> None:
        self._record("ref")

    def handle_comment(self, data: str) -> None:
        self._record("tag")

    def handle_decl(self, decl: str) -> None:
        self._record("tag")

    def handle_pi(self, data: str) -> None:
        self._record("tag")

    def unknown_decl(self, data: str) -> None:
        self._record("tag")

    # Bookkeeping

    def _record(self, kind: str, length: int = 0) -> None:
        line, column = self.getpos()
        self.events.append(
            _Event(self._line_starts[line - 1] + column, kind, length, self._hidden(), self._scope(), self._capture())
        )

    def _hidden(self) -> bool:
        return any(element.hides for element in self._stack)

    def _scope(self) -> frozenset[str]:
        return frozenset(element.tag for element in self._stack if element.is_root)

    def _capture(self) -> int | None:
        return next((e.capture for e in reversed(self._stack) if e.capture is not None), None)

    def _open(self, tag: str, attrs: dict[str, str]) -> None:
        hidden = self._hidden()
        is_root = tag in _ROOT_TAGS and tag not in self.roots and not hidden
        if is_root:
            self.roots.add(tag)
        capture = None
        if tag in ("title", "h1"):
            capture = len(self.captures)
            self.captures.append((tag, self._scope()))
        self._stack.append(_Open(tag, tag in _HIDDEN_TAGS or _is_chrome(tag, attrs), is_root, capture))

    def _note_metadata(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or "").lower()
            if key in ("og:title", "article:published_time") and attrs.get("content"):
                self.meta.setdefault(key, attrs["content"])
        elif tag == "time" and attrs.get("datetime"):
            self.times.append((attrs["datetime"], self._scope()))


def _is_chrome(tag: str, attrs: dict[str, str]) -> bool:
    """Whether an element is navigation or page furniture by its role, id or class."""
    if tag in _NEVER_CHROME:
        return False
    if attrs.get("role", "").lower() == "navigation":
        return True
    parts = {part.lower() for name in ("id", "class") for part in _WORD_PARTS.findall(attrs.get(name, ""))}
    return not parts.isdisjoint(_CHROME_WORDS)


def _read_html(source: str) -> _Page:
    scanner = _HtmlScanner(source)
    root = next((tag for tag in _ROOT_TAGS if tag in scanner.roots), None)
    return _Page(_html_plain(scanner, root), _html_title(scanner, root), _html_date(scanner, root))


def _html_plain(scanner: _HtmlScanner, root: str | None) -> str:
    source = scanner.source
    chars = [" "] * len(source)
    for event, end in zip(scanner.events, scanner.ends):
        if event.kind == "block":  # so that paragraphs and cells do not run together
            chars[event.start] = "\n"
        elif event.hidden or (root is not None and root not in event.scope):
            continue
        elif event.kind == "text":
            stop = min(event.start + event.length, end)
            chars[event.start : stop] = source[event.start : stop]
        elif event.kind == "ref":
            decoded = _decode_reference(source[event.start : end])
            chars[event.start : event.start + len(decoded)] = decoded
    return "".join(chars)


def _decode_reference(raw: str) -> str:
    """The character(s) a reference stands for, to be written at its start."""
    decoded = html.unescape(raw)
    if decoded == raw or len(decoded) > len(raw):  # not a known reference: shown as written
        return raw
    # "&nbsp;" and "&#10;" are spacing; a plain space keeps tokenization simple.
    return "".join(" " if c.isspace() else c for c in decoded)


def _ordered(candidates: list[tuple[_T, frozenset[str]]], root: str | None) -> list[_T]:
    """Candidate values, those inside the article root first, each group in page order."""
    inside = [value for value, scope in candidates if root in scope]
    return inside + [value for value, scope in candidates if root not in scope]


def _captured_text(scanner: _HtmlScanner, index: int) -> str:
    pieces = (
        scanner.source[event.start : end]
        for event, end in zip(scanner.events, scanner.ends)
        if event.capture == index and event.kind in ("text", "ref")
    )
    return html.unescape("".join(pieces))


def _html_title(scanner: _HtmlScanner, root: str | None) -> str | None:
    titles = [i for i, (tag, _) in enumerate(scanner.captures) if tag == "title"]
    headings = _ordered([(i, scope) for i, (tag, scope) in enumerate(scanner.captures) if tag == "h1"], root)
    # In order of preference: og:title, the first <title>, the first <h1>.
    candidates = [scanner.meta.get("og:title", "")]
    candidates += [_captured_text(scanner, i) for i in titles[:1] + headings[:1]]
    return next(filter(None, map(_clean_title, candidates)), None)


def _clean_title(raw: str) -> str | None:
    title = _collapse(raw)
    suffix = _SITE_SUFFIX.fullmatch(title)
    # "Contoso Buys Fabrikam | The Daily Ledger": drop the site name, but only when what
    # is left still reads as a headline and the tail is short enough to be a name.
    if suffix and len(suffix["head"].split()) >= 3 and len(suffix["site"].split()) <= 4:
        title = suffix["head"]
    return title or None


def _html_date(scanner: _HtmlScanner, root: str | None) -> str | None:
    values = [scanner.meta.get("article:published_time", "")] + _ordered(scanner.times, root)
    return next((iso for iso in map(_find_date, values) if iso), None)


_READERS: dict[str, Callable[[str], _Page]] = {"txt": _read_txt, "md": _read_md, "html": _read_html}
