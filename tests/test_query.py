"""SPARQL for users: the store kg build writes, kg query, and the questions in queries/."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.query import Result

from kg import pipeline, query, store
from kg.graph import PREFIXES as GRAPH_PREFIXES

from .conftest import ROOT

QUERIES = ROOT / "queries"
XSD = "http://www.w3.org/2001/XMLSchema#"
SOURCE_0, SOURCE_1, SOURCE_2, SOURCE_3, SOURCE_4 = (
    "000_37576a109dff8b6c",
    "001_8b1f83608ca8095d",
    "002_1547c0c48a61cc8d",
    "003_6011e13885bfb2cf",
    "004_d2849b6abe9dfc84",
)

Value = str | Decimal | int | bool | None


def kg(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def seeds_store(seeds_output: Path) -> Iterator[ox.Store]:
    yield store.open_read_only(seeds_output / "store")


def python_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> Value:
    """A term as a value to compare: numbers as numbers, booleans as booleans, else text."""
    if not isinstance(term, ox.Literal):
        return None if term is None else str(term.value)  # type: ignore[union-attr]
    datatype = term.datatype.value
    if datatype == XSD + "decimal":
        return Decimal(term.value)
    if datatype == XSD + "integer":
        return int(term.value)
    if datatype == XSD + "boolean":
        return term.value == "true"
    return term.value


def answer(seeds_store: ox.Store, name: str, replace: tuple[str, str] | None = None) -> list[tuple[Value, ...]]:
    """The rows of ``queries/name``, optionally with its placeholder edited as a user would."""
    text = (QUERIES / name).read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    solutions = query.run(seeds_store, text)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    return [tuple(python_value(solution[n]) for n in names) for solution in solutions]


def test_every_query_file_says_what_it_answers_and_orders_its_rows() -> None:
    files = sorted(QUERIES.glob("*.rq"))
    assert len(files) == 9
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), f"{path.name} must start with a comment saying what it answers"
        assert "ORDER BY" in text, f"{path.name} must order its rows"


def test_investments_who_in_whom_how_much_and_from_which_sources(seeds_store: ox.Store) -> None:
    amount = Decimal(75_000_000)
    assert answer(seeds_store, "investments.rq") == [
        # investor, investee, amount, currency, approximate, hedged, reported by, source
        ("Google", "A24", amount, "USD", True, True, "The Verge", SOURCE_0),
        ("Google", "A24", amount, "USD", False, False, None, SOURCE_1),
        ("Google", "A24", amount, "USD", True, False, "The Wall Street Journal", SOURCE_2),
        ("Google", "A24", None, None, False, False, None, SOURCE_4),
    ]


def test_partnerships_each_pair_once_with_its_number_of_sources(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "partnerships.rq") == [("A24", "Google", 2), ("A24", "Google DeepMind", 4)]


def test_organizations_founded_in_the_year_the_user_writes(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "founded-in-year.rq") == [("A24", "2012", SOURCE_0)]
    assert answer(seeds_store, "founded-in-year.rq", ('{ "2012" }', '{ "2025" }')) == [("A24 Labs", "2025", SOURCE_1)]
    assert answer(seeds_store, "founded-in-year.rq", ('{ "2012" }', '{ "1999" }')) == []


def test_units_and_subsidiaries_of_an_organization(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "units-and-subsidiaries.rq") == [("Google", "Google DeepMind", "Google")]
    assert answer(seeds_store, "units-and-subsidiaries.rq", ('"Google"', '"A24"')) == [("A24", "A24 Labs", "A24")]


def test_people_and_their_roles(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "people-and-roles.rq") == [
        ("Eli Collins", "Google DeepMind", "VP of Product", SOURCE_2),
        ("Scott Belsky", "A24", "supervises technological innovation", SOURCE_1),
    ]


def test_everything_said_about_one_entity_with_its_sentences(seeds_store: ox.Store) -> None:
    about_a24 = answer(seeds_store, "about-entity.rq")
    assert ("A24", "foundingDate", "2012", SOURCE_0, "A24, founded in 2012, has built its reputation on films such as Everything Everywhere All at Once and The Zone of Interest, often prioritizing unique storytelling over franchise-based models.") in about_a24
    assert ("Google", "investsIn", "A24", SOURCE_1, "Google invested $75 million into the multi-year, non-exclusive alliance with A24.") in about_a24
    assert {row[1] for row in about_a24} >= {"foundingDate", "investsIn", "partnersWith", "produces", "worksFor", "parentOrganization"}
    assert all("A24" in (row[0], row[2]) for row in about_a24)
    assert answer(seeds_store, "about-entity.rq", ('"A24"', '"Eli Collins"')) == [
        ("Eli Collins", "worksFor", "Google DeepMind", SOURCE_2, "According to Eli Collins, VP of Product at Google DeepMind, the deal is structured around a continuous feedback loop:")
    ]


def test_facts_stated_by_one_source_only(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "single-source.rq") == [
        ("A24", "foundingDate", "2012", SOURCE_0),
        ("A24", "produces", "Backrooms", SOURCE_2),
        ("A24", "produces", "The Zone of Interest", SOURCE_0),
        ("A24 Labs", "foundedBy", "A24", SOURCE_1),
        ("A24 Labs", "foundingDate", "2025", SOURCE_1),
        ("A24 Labs", "parentOrganization", "A24", SOURCE_1),
        ("ByteDance", "develops", "Seedance 2.0", SOURCE_1),
        ("Eli Collins", "worksFor", "Google DeepMind", SOURCE_2),
        ("Scott Belsky", "worksFor", "A24", SOURCE_1),
    ]


def test_outlets_credited_with_facts(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "outlets.rq") == [
        ("The Verge", "Google", "investsIn", "A24", SOURCE_0),
        ("The Wall Street Journal", "Google", "investsIn", "A24", SOURCE_2),
        ("The Wall Street Journal", "Scott Belsky", "worksFor", "A24", SOURCE_1),
    ]


def test_no_seed_facts_are_disputed(seeds_store: ox.Store) -> None:
    assert answer(seeds_store, "disputed.rq") == []


def test_facts_whose_sources_disagree_show_each_sources_version(tmp_path: Path) -> None:
    graph = pipeline.build(
        texts={
            "wire-1": "Northwind Traders invested $10 million in Fabrikam Robotics.",
            "wire-2": "Northwind Traders invested $20 million in Fabrikam Robotics.",
            "wire-3": "Northwind Traders made an undisclosed investment in Fabrikam Robotics.",
        }
    )
    graph.write(tmp_path)
    rows = answer(store.open_read_only(tmp_path / "store"), "disputed.rq")
    fact = ("Northwind Traders", "investsIn", "Fabrikam Robotics")
    assert rows == [
        (*fact, "wire-1", Decimal(10_000_000), "USD", False),
        (*fact, "wire-2", Decimal(20_000_000), "USD", False),
        (*fact, "wire-3", None, None, True),
    ]


Cell = tuple[str, str | Decimal, str, str] | tuple[str, str] | None
NUMERIC = (XSD + "decimal", XSD + "double")


def _literal(value: str, datatype: str, language: str) -> Cell:
    """Numbers compared by value: rdflib keeps "75000000.0" as written, Oxigraph writes 75000000."""
    return ("literal", Decimal(value) if datatype in NUMERIC else value, datatype, language)


def _rdflib_value(term: object) -> Cell:
    if term is None:
        return None
    if isinstance(term, Literal):
        language = term.language or ""
        return _literal(str(term), str(term.datatype or (XSD + "string" if not language else "")), language)
    assert isinstance(term, URIRef), term
    return ("iri", str(term))


def _oxigraph_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> Cell:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        language = term.language or ""
        return _literal(term.value, "" if language else term.datatype.value, language)
    assert isinstance(term, ox.NamedNode), term
    return ("iri", term.value)


@pytest.mark.parametrize("name", sorted(path.name for path in QUERIES.glob("*.rq")))
def test_rdflib_and_pyoxigraph_give_the_same_rows(name: str, seeds_output: Path, seeds_store: ox.Store) -> None:
    text = (QUERIES / name).read_text(encoding="utf-8")
    dataset = Dataset(default_union=True)
    dataset.parse(seeds_output / "graph.trig", format="trig")
    rdflib_result: Result = dataset.query(text)
    rdflib_names = [str(v) for v in rdflib_result.vars or ()]
    rdflib_rows = [tuple(_rdflib_value(row[n]) for n in rdflib_names) for row in rdflib_result]  # type: ignore[index]
    solutions = query.run(seeds_store, text)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    assert rdflib_names == names
    assert [tuple(_oxigraph_value(s[n]) for n in names) for s in solutions] == rdflib_rows


def test_the_graphs_prefixes_are_predeclared_for_users() -> None:
    assert {prefix: str(namespace) for prefix, namespace in GRAPH_PREFIXES.items()}.items() <= store.PREFIXES.items()
    assert {"rdf", "rdfs"} <= store.PREFIXES.keys()


def test_kg_query_runs_a_file_and_prints_standard_csv_when_piped(seeds_output: Path) -> None:
    result = kg("query", "queries/investments.rq", "--store", str(seeds_output / "store"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "investor,investee,amount,currency,approximate,hedged,reported_by,source"
    assert lines[1] == f"Google,A24,75000000,USD,true,true,The Verge,{SOURCE_0}"
    assert len(lines) == 5


def test_kg_query_text_with_predeclared_prefixes_as_an_aligned_table(seeds_output: Path) -> None:
    result = kg("query", "SELECT (COUNT(?c) AS ?claims) WHERE { ?c a kgo:Claim ; prov:wasDerivedFrom ?s }", "--store", str(seeds_output / "store"), "--format", "table")
    assert result.returncode == 0, result.stderr
    header, rule, value, count = result.stdout.splitlines()
    assert header == "claims" and set(rule) == {"-"} and int(value) > 20 and count == "(1 row)"


def test_kg_query_formats(seeds_output: Path) -> None:
    folder = str(seeds_output / "store")
    investments = "SELECT ?i ?e WHERE { ?i kgo:investsIn ?e }"
    as_json = json.loads(kg("query", investments, "--store", folder, "--format", "json").stdout)
    assert as_json["head"]["vars"] == ["i", "e"]
    assert as_json["results"]["bindings"] == [{"i": {"type": "uri", "value": "https://w3id.org/newskg/entity/google"}, "e": {"type": "uri", "value": "https://w3id.org/newskg/entity/a24"}}]
    as_tsv = kg("query", investments, "--store", folder, "--format", "tsv").stdout
    assert as_tsv == "?i\t?e\n<https://w3id.org/newskg/entity/google>\t<https://w3id.org/newskg/entity/a24>\n"
    assert kg("query", "ASK { ?x kgo:investsIn ?y }", "--store", folder, "--format", "table").stdout == "true\n"
    assert json.loads(kg("query", "ASK { ?x kgo:acquired ?y }", "--store", folder, "--format", "json").stdout)["boolean"] is False


def test_kg_query_construct_prints_turtle_or_n_triples(seeds_output: Path) -> None:
    folder = str(seeds_output / "store")
    construct = "CONSTRUCT { ?i kgo:investsIn ?e } WHERE { ?i kgo:investsIn ?e }"
    turtle = kg("query", construct, "--store", folder, "--format", "table").stdout
    assert turtle == (
        "@prefix kgo: <https://w3id.org/newskg/ontology#> .\n"
        "<https://w3id.org/newskg/entity/google> kgo:investsIn <https://w3id.org/newskg/entity/a24> .\n"
    )
    n_triples = kg("query", construct, "--store", folder).stdout
    assert n_triples == "<https://w3id.org/newskg/entity/google> <https://w3id.org/newskg/ontology#investsIn> <https://w3id.org/newskg/entity/a24> .\n"


def test_kg_query_reads_standard_input(seeds_output: Path) -> None:
    result = kg("query", "-", "--store", str(seeds_output / "store"), stdin="ASK { ?x kgo:investsIn ?y }")
    assert result.returncode == 0 and result.stdout == "true\n"


def test_a_syntax_error_gives_line_and_column_and_exit_status_2(seeds_output: Path, tmp_path: Path) -> None:
    result = kg("query", "SELECT ?s WHERE {\n  ?s a kgo:Claim\n  FILTER(?s = ) }", "--store", str(seeds_output / "store"))
    assert result.returncode == 2
    assert "syntax error at line 3, column " in result.stderr
    assert "FILTER(?s = ) }" in result.stderr and result.stdout == ""
    bad = tmp_path / "bad.rq"
    bad.write_text("# Which subjects?\nSELECT ?s WHERE {\n  ?s ?p ?o } LIMIT x\n")
    result = kg("query", str(bad), "--store", str(seeds_output / "store"))
    assert result.returncode == 2
    assert f"{bad}: syntax error at line 3, column 20: " in result.stderr
    assert result.stderr.endswith("  ?s ?p ?o } LIMIT x\n" + " " * 21 + "^\n")


def test_a_missing_store_says_how_to_build_one(tmp_path: Path) -> None:
    result = kg("query", "ASK {}", "--store", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "no store at" in result.stderr and "kg build" in result.stderr


def test_a_missing_query_file_is_an_error(seeds_output: Path) -> None:
    result = kg("query", "queries/no-such-question.rq", "--store", str(seeds_output / "store"))
    assert result.returncode == 1 and "no-such-question.rq" in result.stderr


def test_the_table_aligns_wide_characters_and_keeps_a_cell_on_one_line() -> None:
    solutions = ox.Store().query('SELECT ?name ?note WHERE { VALUES (?name ?note) { ("映画" "two\\nlines") ("A24" "") } }')
    assert query.table(solutions) == "name  note\n----  ---------\n映画  two lines\nA24\n(2 rows)\n"


def test_iris_with_a_known_namespace_are_shortened_in_tables() -> None:
    assert query.compact("https://w3id.org/newskg/ontology#investsIn") == "kgo:investsIn"
    assert query.compact("https://w3id.org/newskg/entity/a24") == "<https://w3id.org/newskg/entity/a24>"


def test_the_store_is_replaced_whole_or_not_at_all(tmp_path: Path, seeds_output: Path) -> None:
    folder = tmp_path / "store"
    store.refresh(folder, seeds_output / "graph.nq")
    seeds_quads = len(store.open_read_only(folder))
    small = tmp_path / "small.nq"
    small.write_text('<http://example.org/a> <http://example.org/b> "c" .\n')
    store.refresh(folder, small)
    assert len(store.open_read_only(folder)) == 1
    broken = tmp_path / "broken.nq"
    broken.write_text(small.read_text() + "<http://example.org/a> <not closed\n")
    with pytest.raises(SyntaxError):
        store.refresh(folder, broken)
    assert len(store.open_read_only(folder)) == 1, "a failed refresh must leave the old store"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.nq", "small.nq", "store"], "no temporary folder is left"
    assert seeds_quads == len((seeds_output / "graph.nq").read_text().splitlines())


def test_a_store_loaded_piece_by_piece_holds_exactly_the_files_quads(tmp_path: Path, seeds_output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pieces far smaller than the file: every cut falls inside some line, many inside
    # a multi-byte character of the evidence quotes. (The store holds numbers in canonical
    # form, "75000000.0" as "75000000": compared with the file loaded at once.)
    nquads = seeds_output / "graph.nq"
    whole = ox.Store()
    whole.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    monkeypatch.setattr(store, "LOAD_PIECE_BYTES", 997)
    assert nquads.stat().st_size > 50 * store.LOAD_PIECE_BYTES
    store.refresh(tmp_path / "store", nquads)
    assert set(store.open_read_only(tmp_path / "store")) == set(whole)
    assert len(whole) == len(nquads.read_text(encoding="utf-8").splitlines())


def test_a_folder_that_is_not_a_store_is_never_replaced(tmp_path: Path, seeds_output: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(store.StoreError, match="not a newskg store"):
        store.refresh(tmp_path, seeds_output / "graph.nq")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_seeds_build_wrote_a_store_with_every_quad(seeds_output: Path) -> None:
    assert store.is_store(seeds_output / "store")
    quads = len((seeds_output / "graph.nq").read_text(encoding="utf-8").splitlines())
    assert len(store.open_read_only(seeds_output / "store")) == quads


def test_committed_output_leaves_out_the_store() -> None:
    assert "output/store/" in (ROOT / ".gitignore").read_text().splitlines()


def _edited(nquads: Path, folder: Path) -> Path:
    """``nquads`` without its first ten quads and with one more: a rebuild's new graph."""
    lines = nquads.read_bytes().splitlines(keepends=True)
    edited = folder / "edited.nq"
    edited.write_bytes(b"".join(lines[10:]) + '<http://example.org/a> <http://example.org/b> "ünïcode" .\n'.encode())
    return edited


def _quads_of(nquads: Path) -> set[ox.Quad]:
    whole = ox.Store()
    whole.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    return set(whole)


def test_a_store_is_updated_from_the_one_it_replaces_and_holds_what_a_full_load_would(tmp_path: Path, seeds_output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = seeds_output / "graph.nq"
    folder = store.refresh(tmp_path / "store", old)
    new = _edited(old, tmp_path)
    full_loads: list[Path] = []
    monkeypatch.setattr(store, "_bulk_load", lambda folder, nquads: full_loads.append(nquads))
    with store.fresh_store(folder) as fresh:
        store.load(fresh, new, folder, old)
    assert full_loads == []
    assert set(store.open_read_only(folder)) == _quads_of(new)
    # The updated store is stamped in turn: the next rebuild updates it again.
    with store.fresh_store(folder) as fresh:
        store.load(fresh, old, folder, new)
    assert full_loads == [] and set(store.open_read_only(folder)) == _quads_of(old)


def test_an_update_takes_out_quads_with_any_literal_in_any_graph(tmp_path: Path, seeds_output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The removed quads reach the store as one SPARQL update, written from their N-Quads.
    graph, subject, predicate = ox.NamedNode("http://example.org/g"), ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    texts = ['a "quoted" <b> c', "back\\slash \\u0022", "new\nline\r\ttab", "control \x01\x1f\x7f", "é 漢 🚀 \u2028", '"^^<x> <y> .']
    literals = [ox.Literal(text) for text in texts] + [ox.Literal("5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), ox.Literal("hi", language="en-GB")]
    odd = [ox.Quad(subject, predicate, literal, graph if n % 2 else None) for n, literal in enumerate(literals)]
    plain = seeds_output / "graph.nq"
    old = tmp_path / "old.nq"
    old.write_bytes(plain.read_bytes() + ox.serialize(odd, format=ox.RdfFormat.N_QUADS))
    folder = store.refresh(tmp_path / "store", old)
    full_loads: list[Path] = []
    monkeypatch.setattr(store, "_bulk_load", lambda folder, nquads: full_loads.append(nquads))
    with store.fresh_store(folder) as fresh:
        store.load(fresh, plain, folder, old)
    assert full_loads == [] and set(store.open_read_only(folder)) == _quads_of(plain)


def test_a_store_changed_since_it_was_loaded_is_loaded_whole_again(tmp_path: Path, seeds_output: Path) -> None:
    old = seeds_output / "graph.nq"
    folder = store.refresh(tmp_path / "store", old)
    someone = ox.Store(str(folder))  # another program writes to it
    someone.add(ox.Quad(ox.NamedNode("http://example.org/x"), ox.NamedNode("http://example.org/y"), ox.Literal("z")))
    del someone
    new = _edited(old, tmp_path)
    with store.fresh_store(folder) as fresh:
        store.load(fresh, new, folder, old)
    assert set(store.open_read_only(folder)) == _quads_of(new)
    # Nor is a store updated from a file other than the one it was loaded from.
    other = tmp_path / "other.nq"
    other.write_bytes(old.read_bytes()[: len(old.read_bytes()) // 2].rsplit(b"\n", 1)[0] + b"\n")
    with store.fresh_store(folder) as fresh:
        store.load(fresh, old, folder, other)
    assert set(store.open_read_only(folder)) == _quads_of(old)
