"""Tests for kg.ingest: finding files, reading them, and the same-length plain text."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kg.ingest import SourceError, document_from_text, find_sources, read_document
from kg.types import Document

DATA = Path(__file__).parent / "data" / "ingest"
TXT = DATA / "northwind-contoso.txt"
MD = DATA / "fabrikam-profile.md"
HTML = DATA / "tailspin-launch.html"


def assert_aligned(doc: Document) -> None:
    """Every word the NLP sees sits at the same offsets in the text as read."""
    assert len(doc.plain) == len(doc.text)
    for word in re.finditer(r"\S+", doc.plain):
        original = doc.text[word.start() : word.end()]
        if "&" not in original:  # a decoded reference differs from its source by design
            assert original == word.group(), (word.start(), word.group(), original)


def assert_found(doc: Document, phrase: str) -> None:
    """``phrase`` is in plain, and each of its words is at an offset where the text says the same."""
    start = doc.plain.index(phrase)
    for word in re.finditer(r"\S+", phrase):
        assert doc.text[start + word.start() : start + word.end()] == word.group()


@pytest.mark.parametrize("path", [TXT, MD, HTML], ids=lambda p: p.suffix)
def test_every_sample_keeps_offsets(path: Path) -> None:
    doc = read_document(path)
    assert doc.text == path.read_bytes().decode("utf-8")
    assert_aligned(doc)


# --- plain text ------------------------------------------------------------------------


def test_txt_document() -> None:
    doc = read_document(TXT)
    assert (doc.id, doc.format, doc.path) == ("northwind-contoso", "txt", TXT.as_posix())
    assert doc.title == "Northwind Traders Agrees to Acquire Contoso Robotics"
    assert doc.date == "2026-07-05"
    assert doc.plain is doc.text  # nothing to blank: the same string, not a copy


def test_display_path_replaces_the_recorded_path() -> None:
    assert read_document(TXT, display_path="seeds/northwind-contoso.txt").path == "seeds/northwind-contoso.txt"


def test_bom_and_crlf_keep_exact_offsets(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffContoso Names a New Chief Executive\r\n\r\nContoso named Ravi Menon.\r\n".encode())
    doc = read_document(path)
    assert doc.text.startswith("\ufeff") and "\r\n" in doc.text  # decoded, nothing else changed
    assert doc.plain == " " + doc.text[1:]
    assert doc.title == "Contoso Names a New Chief Executive"
    start = doc.plain.index("Ravi Menon")
    assert doc.text[start : start + len("Ravi Menon")] == "Ravi Menon"


def test_bom_and_crlf_html_keep_exact_offsets(tmp_path: Path) -> None:
    path = tmp_path / "bom.html"
    page = "\ufeff<html>\r\n<body>\r\n<article>\r\n<p>Contoso\r\nhired &amp; promoted\r\nRavi Menon.</p>\r\n</article>"
    path.write_bytes(page.encode())
    doc = read_document(path)
    assert doc.text == page
    assert doc.plain[0] == " "
    assert_aligned(doc)
    assert_found(doc, "Ravi Menon.")
    assert_found(doc, "Contoso\r\nhired")


@pytest.mark.parametrize(
    ("first_lines", "title"),
    [
        ("Contoso Opens a Research Lab in Lisbon\nBody.", "Contoso Opens a Research Lab in Lisbon"),
        ("Contoso opened a research lab in Lisbon on Monday.\nBody.", None),  # a sentence
        ("Contoso Opens a Lab, Says “It Is Time.”\nBody.", None),  # ends in a quoted sentence
        ("Monday, July 6, 2026\nBody.", None),  # mostly a date
        ("By Dana Whitfield, Staff Writer\nBody.", None),  # a byline
        ("Lab\nContoso Lab\n\nContoso Opens a Research Lab\n", "Contoso Opens a Research Lab"),  # too short first
        (" ".join(["Contoso"] * 21) + "\nContoso Opens a Research Lab", None),  # body began
        ("the lab opens in lisbon today\n", None),  # not title case
    ],
)
def test_txt_title(first_lines: str, title: str | None) -> None:
    assert document_from_text(first_lines, id="t").title == title


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("July 5, 2026", "2026-07-05"),
        ("Published Sept. 3rd, 2026", "2026-09-03"),
        ("5 July 2026", "2026-07-05"),
        ("Updated 2026-07-05T10:00Z", "2026-07-05"),
        ("February 30, 2026", None),  # not a calendar date
        ("Contoso said on July 5, 2026 that it had signed a lease for a new office.", None),  # not a dateline
    ],
)
def test_txt_date(line: str, date: str | None) -> None:
    assert document_from_text(f"{line}\n\nBody text.", id="d").date == date


def test_txt_date_only_in_the_first_three_lines() -> None:
    assert document_from_text("One\nTwo\nThree\nJuly 5, 2026\n", id="d").date is None


def test_given_title_wins() -> None:
    doc = document_from_text("Contoso Opens a Research Lab in Lisbon\n", id="t", title="Given")
    assert doc.title == "Given"


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="pdf"):
        document_from_text("x", id="x", format="pdf")


# --- Markdown --------------------------------------------------------------------------


def test_md_document() -> None:
    doc = read_document(MD)
    assert (doc.id, doc.format) == ("fabrikam-profile", "md")
    assert doc.title == "Fabrikam Expands: A Profile of the Widget Maker"
    assert doc.date == "2026-03-14"
    for markup in ("---", "author", "#", ">", "**", "`", "](", "https://", "![", "[gazette]", "Logo", "editor's note"):
        assert markup not in doc.plain, markup
    for hidden in ("Secret Launch Code", "Fabrikam logo"):
        assert hidden not in doc.plain
    for phrase in (
        "Fabrikam  Grows  Beyond Widgets",
        "Fabrikam   signed a supply deal with  Contoso ",
        "on  Monday .",
        "Fabrikam Inc was founded in 1998 by Marta Quill.",
        "Revenue rose to  $1.2 billion  in   fiscal  2025",
        "Tailspin Toys is its largest customer",
        "Adventure Works invested $40 million in Fabrikam in 2024.",
        "Outlook",
        "Analysts at the  Harbor Gazette" + " " * 11 + "expect further growth.",
        "snake_case_id",
    ):
        assert_found(doc, phrase)
    assert "-------" not in doc.plain  # the setext underline


def test_md_list_markers_are_blanked() -> None:
    doc = read_document(MD)
    line = doc.plain.splitlines()[doc.text.splitlines().index("* Tailspin Toys is its largest customer")]
    assert line == "  Tailspin Toys is its largest customer"


def test_md_title_falls_back_to_the_first_heading() -> None:
    doc = document_from_text("Intro line\n\n## Not this\n# Contoso [Opens](https://x.example) a *Lab*\n", id="m", format="md")
    assert doc.title == "Contoso Opens a Lab"
    assert doc.date is None


def test_md_heading_in_code_is_not_a_title() -> None:
    doc = document_from_text("```\n# comment in code\n```\n# Real Heading\n", id="m", format="md")
    assert doc.title == "Real Heading"


def test_md_unclosed_fence_runs_to_the_end() -> None:
    doc = document_from_text("Contoso text.\n~~~\ncode\n", id="m", format="md")
    assert doc.plain.split() == ["Contoso", "text."]


def test_md_bom_before_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff---\r\ntitle: Contoso Opens a Lab\r\n---\r\n# Heading\r\nBody.\r\n".encode())
    doc = read_document(path)
    assert doc.title == "Contoso Opens a Lab"
    assert doc.plain.split() == ["Heading", "Body."]
    assert_aligned(doc)


# --- HTML ------------------------------------------------------------------------------


def test_html_document() -> None:
    doc = read_document(HTML)
    assert (doc.id, doc.format) == ("tailspin-launch", "html")
    assert doc.title == "Tailspin Toys Raises $30 Million From Contoso Ventures"  # og:title
    assert doc.date == "2026-05-20"  # article:published_time beats <time>
    secrets = re.findall(r"\w+Secret", doc.text)
    assert len(secrets) == 12
    for secret in secrets:
        assert secret not in doc.plain
    for markup in ("<", ">", "trackerSecret", "color", "&amp;", "Harbor Gazette", "subscribe"):
        assert markup not in doc.plain, markup
    for phrase in (
        "Tailspin Toys raises $30 million",
        "Omar Reyes",
        "May 19, 2026",
        "Tailspin Toys said on Tuesday that Contoso Ventures led a $30",
        "Wide World Importers &",
        "Analysts call the round a bellwether.",  # "commentary" is not a "comment" class
        "the money will fund a new factory.",
    ):
        assert_found(doc, phrase)


def test_html_references_become_characters_padded_with_spaces() -> None:
    doc = read_document(HTML)
    for reference, replacement in (("&amp;", "&    "), ("&#8217;", "’      "), ("&#x2019;", "’       "), ("&nbsp;", "      ")):
        start = doc.text.index(reference)
        assert doc.plain[start : start + len(reference)] == replacement
    assert "company’      s filing" in doc.plain


def test_html_blocks_start_new_lines() -> None:
    doc = read_document(HTML)
    end_of_paragraph = doc.plain.index("filing.") + len("filing.")
    assert doc.plain[end_of_paragraph] == "\n"  # from </p>
    lines = [" ".join(line.split()) for line in doc.plain.splitlines()]
    assert "Tailspin Toys raises $30 million" in lines


def html(body: str, head: str = "") -> Document:
    return document_from_text(f"<html><head>{head}</head><body>{body}</body></html>", id="h", format="html")


def test_html_title_from_title_element_without_site_name() -> None:
    doc = html("<p>Body</p>", "<title>Contoso Opens a Lab &amp; Store | The Harbor Gazette</title>")
    assert doc.title == "Contoso Opens a Lab & Store"
    assert "Contoso" not in doc.plain  # the title is metadata, not prose


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Contoso Hires - Gazette", "Contoso Hires - Gazette"),  # too little left to be a headline
        ("Contoso opens a lab - and it is much bigger than expected", "Contoso opens a lab - and it is much bigger than expected"),
        ("Contoso opens a lab - Harbor Gazette", "Contoso opens a lab"),
    ],
)
def test_html_site_suffix_rules(title: str, expected: str) -> None:
    assert html("", f"<title>{title}</title>").title == expected


def test_html_title_falls_back_to_h1_in_the_article() -> None:
    doc = html("<header><h1>Harbor Gazette</h1></header><article><h1>Contoso <em>Opens</em>\n a Lab</h1></article>")
    assert doc.title == "Contoso Opens a Lab"


def test_html_date_from_time_element() -> None:
    doc = html('<aside><time datetime="2025-01-01">old</time></aside><article><time datetime="2026-07-05">x</time></article>')
    assert doc.date == "2026-07-05"
    assert html('<time datetime="not a date">x</time>').date is None


def test_html_without_article_uses_main() -> None:
    doc = html("<div>Outside text</div><main><p>Contoso inside</p></main><div>After text</div>")
    assert doc.plain.split() == ["Contoso", "inside"]


def test_html_without_article_or_main_keeps_the_body() -> None:
    doc = html("<div>First part</div><p>Second part</p><div id='mainMenu'>Menu link</div><div class='cookie-banner'>Ok</div>")
    assert doc.plain.split() == ["First", "part", "Second", "part"]


def test_html_first_article_only() -> None:
    doc = html("<aside><article>Teaser</article></aside><article>Main story</article><article>Second story</article>")
    assert doc.plain.split() == ["Main", "story"]


def test_html_role_navigation_is_hidden() -> None:
    assert html('<div role="navigation">Links</div><p>Story</p>').plain.split() == ["Story"]


def test_html_malformed_references_do_not_leak_markup() -> None:
    # The stdlib parser pauses at "&#" not followed by digits; the tags after must still be markup.
    doc = html("<p>A &#; B &#; <b>bold</b> text</p>")
    assert doc.plain.split() == ["A", "&#;", "B", "&#;", "bold", "text"]
    assert_aligned(doc)


def test_html_unknown_entity_is_kept_as_written() -> None:
    doc = html("<p>Fish &chips; &amp chips</p>")
    assert doc.plain.split() == ["Fish", "&chips;", "&", "chips"]


def test_html_unclosed_script_is_hidden() -> None:
    assert html("<p>Story</p><script>var a = '<p>x</p>'").plain.split() == ["Story"]


# --- finding files ---------------------------------------------------------------------


def make_tree(root: Path) -> None:
    (root / "b-folder" / "nested").mkdir(parents=True)
    (root / ".hidden-folder").mkdir()
    for name in ("a.txt", "b-folder/c.md", "b-folder/nested/d.HTML", "b-folder/nested/e.htm", "z.markdown",
                 ".hidden.txt", ".hidden-folder/f.txt", "notes.pdf", "b-folder/image.png"):
        (root / name).write_text("x", encoding="utf-8")


def test_find_sources_walks_folders_in_order(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = find_sources([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.txt", "b-folder/c.md", "b-folder/nested/d.HTML", "b-folder/nested/e.htm", "z.markdown"
    ]


def test_find_sources_survives_symlink_loops(tmp_path: Path) -> None:
    make_tree(tmp_path)
    os.symlink(tmp_path, tmp_path / "b-folder" / "nested" / "loop")  # points back up the tree
    os.symlink(tmp_path / "a.txt", tmp_path / "y-link.txt")  # the same file again
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling.txt")
    found = find_sources([tmp_path, tmp_path / "b-folder"])
    assert len(found) == len({os.path.realpath(p) for p in found}) == 5


def test_find_sources_follows_links_to_files(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x", encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    os.symlink(outside, tmp_path / "corpus" / "linked.txt")
    assert find_sources([tmp_path / "corpus"]) == [tmp_path / "corpus" / "linked.txt"]


def test_find_sources_takes_named_files_when_supported(tmp_path: Path) -> None:
    make_tree(tmp_path)
    named = [tmp_path / ".hidden.txt", tmp_path / "notes.pdf", tmp_path / "a.txt"]
    assert find_sources(named) == [tmp_path / ".hidden.txt", tmp_path / "a.txt"]


def test_find_sources_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(SourceError, match=re.escape(str(missing))):
        find_sources([missing])


# --- read errors -----------------------------------------------------------------------


def test_invalid_utf8_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 Contoso".encode("latin-1"))
    with pytest.raises(SourceError, match=re.escape(str(path)) + ".*byte offset 3"):
        read_document(path)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(SourceError, match="unsupported"):
        read_document(path)


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=re.escape(str(tmp_path / "gone.txt"))):
        read_document(tmp_path / "gone.txt")
