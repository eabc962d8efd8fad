"""Minted IRIs: valid in every RDF tool, distinct for distinct names, stable across runs."""
from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg import ids, pipeline
from kg.graph import Iris

# Names that slug badly: characters IRIs forbid or escape, non-Latin scripts, nothing left.
TROUBLE = (
    "100% Pure",
    "A|B",
    'Quote "Co"',
    "back\\slash",
    "  spaced   out  ",
    "Rocket 🚀 Labs",
    "🚀",
    "שלום טכנולוגיות",
    "شركة المثال",
    "!!!",
    "<angle> & {brace}",
    "Acme Corp.",
    "x" * 2000,
)
# Different names that share a slug, so that each needs its hash.
SAME_SLUG = ("A&B", "A B", "a-b", "A.B.")
# What any RDF syntax can hold in an IRI without escapes (RFC 3987 minus the characters
# Turtle, N-Quads and rdflib reject or escape: space, <>"{}|\^` and a bare %).
SAFE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]+")


def assert_valid_iri(iri: ox.NamedNode) -> None:
    assert SAFE_IRI.fullmatch(iri.value), iri  # (Oxigraph checked the IRI's syntax, strictly, when making it)


def test_trouble_names_mint_valid_distinct_iris() -> None:
    keys = ids.entity_keys(TROUBLE + SAME_SLUG)
    iris = [Iris().entity(keys[name]) for name in TROUBLE + SAME_SLUG]
    for iri in iris:
        assert_valid_iri(iri)
    assert len(set(iris)) == len(iris)


def test_names_that_share_a_slug_each_get_a_hash_and_clean_names_keep_their_slug() -> None:
    keys = ids.entity_keys(SAME_SLUG + ("Acme Corp.",))
    assert all(re.fullmatch(r"a-b--[0-9a-f]{8}", keys[name]) for name in SAME_SLUG), keys
    assert keys["Acme Corp."] == "acme-corp"


def test_names_empty_after_slugging_get_a_hash_alone() -> None:
    keys = ids.entity_keys(["🚀", "!!!", "שלום"])
    assert all(re.fullmatch(r"e--[0-9a-f]{12}", key) for key in keys.values()), keys
    assert len(set(keys.values())) == 3


def test_long_names_are_cut_to_a_short_key() -> None:
    keys = ids.entity_keys(["x" * 2000, "x" * 1999])
    assert all(len(key) <= ids.MAX_SLUG + len(ids.HASH_SEPARATOR) + 8 for key in keys.values())
    assert len(set(keys.values())) == 2


def test_no_name_can_mint_the_hashed_key_of_another() -> None:
    hashed = ids.entity_keys(["A B", "a-b"])["A B"]
    forged = hashed.replace("-", " ")  # "a b  1a2b3c4d": its slug is "a-b-1a2b3c4d"
    keys = ids.entity_keys(["A B", "a-b", forged])
    assert len(set(keys.values())) == 3
    source = ids.source_key("a b")
    assert ids.source_key(source) != source  # a file named like a hashed id gets its own


def test_keys_do_not_depend_on_the_order_names_come_in() -> None:
    names = list(TROUBLE + SAME_SLUG)
    assert ids.entity_keys(names) == ids.entity_keys(reversed(names))


@pytest.mark.parametrize(
    "document_id",
    ["my report (final) 100%", 'Quote "Co"', "A|B", "back\\slash", "with space", "ünïcode", "🚀", "", ".hidden", "-dash"],
)
def test_odd_document_ids_mint_valid_source_iris(document_id: str) -> None:
    assert_valid_iri(Iris().source(document_id))


def test_safe_document_ids_are_kept_and_unsafe_ones_do_not_collide() -> None:
    assert ids.source_key("000_37576a109dff8b6c") == "000_37576a109dff8b6c"
    assert ids.source_key("news-1.v2") == "news-1.v2"
    odd = ["a b", "a-b", "a_b", "A B", "a  b", "a%b", "a--b"]
    assert len({ids.source_key(document_id) for document_id in odd}) == len(odd)


@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=8, unique=True))
def test_any_names_mint_valid_distinct_entity_iris(names: list[str]) -> None:
    keys = ids.entity_keys(names)
    for key in keys.values():
        assert_valid_iri(Iris().entity(key))
    assert len(set(keys.values())) == len(names)


@given(st.text(max_size=200))
def test_any_document_id_mints_a_valid_source_iri(document_id: str) -> None:
    assert_valid_iri(Iris().source(document_id))


@pytest.mark.parametrize("base", ["https://w3id.org/newskg/", "http://example.org/kg#", "urn:x-kg:corpus/"])
def test_good_base_iris_are_accepted(base: str) -> None:
    assert ids.is_base_iri(base)
    assert_valid_iri(Iris(base).entity("acme"))


@pytest.mark.parametrize("base", ["https://ex.org/a b/", "https://ex.org/kg", "ex.org/kg/", 'https://ex.org/"q"/', "https://ex.org/a|b/", "https://ex.org/100%/", "https://ex.org/a%20b/", ""])
def test_bad_base_iris_are_refused_before_anything_is_read(base: str) -> None:
    assert not ids.is_base_iri(base)
    with pytest.raises(pipeline.BuildError, match="base IRI"):
        pipeline.build(["no/such/folder"], settings=pipeline.Settings(base_iri=base))
