"""How an article's text is laid out in lines: where its paragraphs and headlines are.

Web articles put each paragraph on one line, and a line without a full stop is a
headline, a byline or a table row. Newswire is often hard-wrapped instead: paragraphs run
over many short lines, and a line break inside one means nothing. Sentence splitting and
headline detection both follow the layout found here.
"""
from __future__ import annotations

TERMINAL = tuple(".!?:;\u2026") + ('."', ".\u201d", "?\u201d", "!\u201d")
WRAP_WIDTH = 100  # hard-wrapped text has no line longer than this
MAX_HEADLINE_WORDS = 20


def hard_wrapped(text: str) -> bool:
    """Paragraphs wrapped over short lines: no long line, lines of prose length, and most
    of them ending mid-sentence."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if len(lines) < 4 or max(len(line) for line in lines) > WRAP_WIDTH:
        return False
    mid_sentence = sum(1 for line in lines if not line.endswith(TERMINAL))
    return mid_sentence >= len(lines) / 2 and sum(map(len, lines)) / len(lines) >= 40


def _reads_as_headline(line: str) -> bool:
    words = line.split()
    return bool(words) and len(words) <= MAX_HEADLINE_WORDS and not line.endswith(TERMINAL)


def paragraph_starts(text: str) -> list[int]:
    """Offsets of the lines that begin a paragraph: every line in web layout; in wrapped
    text, a line after a blank line or one that is indented (and the first line)."""
    wrapped = hard_wrapped(text)
    starts, offset, after_blank = [], 0, True
    for line in text.splitlines(keepends=True):
        if line.strip():
            if not wrapped or after_blank or line[:1] in " \t":
                starts.append(offset)
            after_blank = False
        else:
            after_blank = True
        offset += len(line)
    return starts


def heading_lines(text: str) -> list[tuple[int, int]]:
    """Spans of lines that read as headlines, bylines or table rows rather than prose: a
    paragraph of one short line with no full stop."""
    starts = set(paragraph_starts(text))
    lines: list[tuple[int, str]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        lines.append((offset, line))
        offset += len(line)
    spans = []
    for index, (start, line) in enumerate(lines):
        if start not in starts or not _reads_as_headline(line.strip()):
            continue
        following = next(((s, l) for s, l in lines[index + 1 :] if l.strip()), None)
        if following is None or following[0] in starts:  # the paragraph is this one line
            spans.append((start, start + len(line)))
    return spans

