"""Corpus-sized builds: JSON Lines input, the extraction cache, worker processes and Dask
all give the same graph as a plain build."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from concurrent.futures import Future
from contextlib import nullcontext
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import pipeline, store, workers
from kg.cache import ExtractionCache
from kg.export import trig, turtle
from kg.validate import Conforming

from .conftest import ROOT

ARTICLES = {
    "alpha": "Northwind Traders invested $40 million in Fabrikam Robotics on Monday.",
    "beta": "Litware Inc. partnered with Trey Research to build battery packs.",
    "gamma": "Woodgrove Bank acquired Coho Winery for $2 billion, according to The Daily Ledger.",
}


@pytest.fixture
def parsed_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches spaCy was asked to parse in this process."""
    sizes: list[int] = []
    real = workers.extract_batch

    def counting(documents: list) -> list:
        sizes.append(len(documents))
        return real(documents)

    monkeypatch.setattr(workers, "extract_batch", counting)
    return sizes


def write_articles(folder: Path, articles: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text)


@pytest.mark.slow
def test_a_gzipped_json_lines_corpus_builds_like_the_same_articles_as_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as file:
        for name, text in ARTICLES.items():
            file.write(json.dumps({"id": name, "text": text, "title": name.title(), "date": "2026-03-01"}) + "\n")
        file.write("{broken\n")
    graph = pipeline.build([corpus])
    assert [doc.id for doc in graph.resolution.documents] == ["alpha", "beta", "gamma"]
    assert graph.resolution.documents[0].date == "2026-03-01" and graph.resolution.documents[0].title == "Alpha"
    assert graph.skipped == [(f"{corpus.as_posix()}:4", "not JSON (Expecting property name enclosed in double quotes at column 2)")]
    write_articles(tmp_path / "files", ARTICLES)
    facts = {claim.fact for claim in pipeline.build([tmp_path / "files"]).resolution.claims}
    assert {claim.fact for claim in graph.resolution.claims} == facts and len(facts) == 3


def test_the_last_documents_are_shared_among_the_workers_not_left_to_one(monkeypatch: pytest.MonkeyPatch, parsed_batches: list[int]) -> None:
    # A rebuild's new articles come last: with 17 left after a full batch of 24, two workers
    # get them in eight small parts, each taken by whichever worker comes free, not one
    # worker all 17, nor each a half however long its articles. (The runner here parses in
    # this process and says it has two.)
    class TwoProcesses(workers.InProcess):
        processes = 2

    monkeypatch.setattr(workers, "runner", lambda count, dask: nullcontext(TwoProcesses()))
    texts = {f"doc{n:02d}": f"Northwind Traders opened office number {n}." for n in range(24 + 17)}
    documents = pipeline.stream_documents([], texts, pipeline.Settings(), [])
    results = list(pipeline.extract_all(documents, pipeline.Settings(workers=2, documents_per_batch=24)))
    assert parsed_batches == [24, 2, 2, 2, 2, 2, 2, 2, 3]
    assert sorted(result.document.id for result in results) == sorted(texts)


@pytest.mark.slow
def test_new_documents_go_to_the_workers_before_the_cached_ones_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebuild's new articles come last in the stream: they are sent to be parsed as soon
    # as the stream ends, and the cached results are read while they are parsed.
    settings = pipeline.Settings(cache_dir=tmp_path / "cache")
    pipeline.build(texts={"alpha": ARTICLES["alpha"], "beta": ARTICLES["beta"]}, settings=settings)
    events: list[str] = []
    real_batch, real_get = workers.extract_batch, ExtractionCache.get
    monkeypatch.setattr(workers, "extract_batch", lambda documents: events.append(f"parse {[d.id for d in documents]}") or real_batch(documents))
    monkeypatch.setattr(ExtractionCache, "get", lambda self, key, document: events.append(f"read {document.id}") or real_get(self, key, document))
    rebuilt = pipeline.build(texts=ARTICLES, settings=settings)
    assert events == ["parse ['gamma']", "read alpha", "read beta"]
    assert len(rebuilt.resolution.claims) == 3


@pytest.mark.slow
def test_the_cache_parses_nothing_on_a_rebuild_and_one_file_after_editing_one(tmp_path: Path, parsed_batches: list[int]) -> None:
    write_articles(tmp_path / "in", ARTICLES)
    settings = pipeline.Settings(cache_dir=tmp_path / "cache")
    first = turtle(pipeline.build([tmp_path / "in"], settings=settings).rdf)
    assert sum(parsed_batches) == 3
    parsed_batches.clear()
    assert turtle(pipeline.build([tmp_path / "in"], settings=settings).rdf) == first
    assert parsed_batches == []
    (tmp_path / "in" / "beta.txt").write_text("Litware Inc. partnered with Contoso Ltd. to build battery packs.")
    (tmp_path / "in" / "gamma.txt").unlink()
    rebuilt = pipeline.build([tmp_path / "in"], settings=settings)
    assert parsed_batches == [1]
    assert {d.id for d in rebuilt.resolution.documents} == {"alpha", "beta"}
    assert len(list((tmp_path / "cache").glob("*/*.json"))) == 2  # the removed and the old entries are gone


@pytest.mark.slow
def test_two_workers_give_the_same_bytes_as_one(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", ARTICLES)
    one = pipeline.build([tmp_path / "in", ROOT / "seeds"], settings=pipeline.Settings(workers=1, documents_per_batch=2))
    two = pipeline.build([tmp_path / "in", ROOT / "seeds"], settings=pipeline.Settings(workers=2, documents_per_batch=2))
    assert (turtle(one.rdf), trig(one.rdf)) == (turtle(two.rdf), trig(two.rdf))
    assert two.checker is None  # a whole graph is checked in this process, not parsed again in another


@pytest.mark.slow
def test_the_seeds_through_a_dask_cluster_give_the_committed_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.chdir(ROOT)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True) as cluster:
        graph = pipeline.build(["seeds"], settings=pipeline.Settings(dask=cluster.scheduler_address, documents_per_batch=2))
    output = tmp_path / "out"
    graph.write(output, store_dir=tmp_path / "store")
    for name in ("graph.ttl", "graph.trig", "graph.nq", "graph.jsonld", "report.md"):
        assert (output / name).read_bytes() == (ROOT / "output" / name).read_bytes(), name


@pytest.mark.slow
def test_a_rebuild_with_nothing_changed_writes_nothing_and_says_so(tmp_path: Path) -> None:
    from .test_build import kg

    write_articles(tmp_path / "in", ARTICLES)
    out = tmp_path / "out"
    assert kg("build", str(tmp_path / "in"), "-o", str(out), "--workers", "1").returncode == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("graph.*")}
    again = kg("build", str(tmp_path / "in"), "-o", str(out), "--workers", "1")
    assert again.returncode == 0 and "up to date" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("graph.*")} == stamps
    (tmp_path / "in" / "beta.txt").write_text("Litware Inc. partnered with Contoso Ltd. to build battery packs.")
    changed = kg("build", str(tmp_path / "in"), "-o", str(out), "--workers", "1")
    assert changed.returncode == 0 and "up to date" not in changed.stdout
    assert "Contoso Ltd." in (out / "graph.ttl").read_text()


@pytest.mark.slow
def test_a_rebuild_into_the_same_folder_updates_the_store_to_the_new_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "out"
    pipeline.build(texts={"alpha": ARTICLES["alpha"], "beta": ARTICLES["beta"]}).write(output)
    updates: list[object] = []
    real_update = store._update
    monkeypatch.setattr(store, "_update", lambda *folders: updates.append(folders) or real_update(*folders))
    pipeline.build(texts=ARTICLES).write(output)
    assert len(updates) == 1
    whole = ox.Store()  # the new graph loaded at once (a store holds numbers in canonical form)
    whole.bulk_load(path=str(output / "graph.nq"), format=ox.RdfFormat.N_QUADS)
    in_store = set(store.open_read_only(output / "store"))
    assert in_store == set(whole)
    assert any("coho-winery" in quad.subject.value for quad in in_store)


@pytest.mark.slow
def test_a_rebuild_checks_the_shapes_of_what_changed_only_and_writes_what_a_fresh_build_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg import cli, validate

    write_articles(tmp_path / "in", {"alpha": ARTICLES["alpha"], "beta": ARTICLES["beta"]})
    focuses: list[object] = []
    report = validate._report
    monkeypatch.setattr(validate, "_report", lambda text, syntax, focus=None: focuses.append(focus) or report(text, syntax, focus))

    def build(output: str, *options: str) -> None:
        assert cli.main(["build", str(tmp_path / "in"), "-o", str(tmp_path / output), "--workers", "1", "--quiet", *options]) == 0

    build("out")
    write_articles(tmp_path / "in", {"gamma": ARTICLES["gamma"]})
    build("out")
    build("fresh", "--no-cache")
    first, rebuild, fresh = focuses
    assert first is None and fresh is None  # nothing to start from: the whole graph
    assert rebuild is not None and any("coho" in node for node in rebuild)  # type: ignore[attr-defined]
    for name in ("graph.ttl", "graph.trig", "graph.nq", "graph.jsonld", "graph.html"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


@pytest.mark.slow
def test_a_build_whose_checking_process_died_checks_the_shapes_itself(tmp_path: Path) -> None:
    pipeline.build(texts={"alpha": ARTICLES["alpha"]}).write(tmp_path / "before")
    before = tmp_path / "before" / "graph.nq"
    previous = Conforming(before, hashlib.sha256(before.read_bytes()).hexdigest())
    graph = pipeline.build(texts=ARTICLES, settings=pipeline.Settings(workers=2, previous_graph=previous))
    assert graph.checker is not None
    graph.checker.submit(sum, ()).result()  # it has started
    for process in list(graph.checker._processes.values()):
        process.kill()
    graph.write(tmp_path / "out")
    assert "coho-winery" in (tmp_path / "out" / "graph.ttl").read_text()


def test_batches_wait_for_the_pool_to_start_without_holding_up_the_build() -> None:
    # The pool starts in the background (the fork server loads spaCy first): a batch
    # submitted before is sent once it has, and a pool that fails to start fails the batch.
    class Pool:
        sent: list[list[str]] = []

        def submit(self, function: object, batch: list) -> Future[list]:
            self.sent.append([document.id for document in batch])
            return Future()

    starting: Future[Pool] = Future()
    local = workers.LocalPool(starting, 2)  # type: ignore[arg-type]
    documents = list(pipeline.stream_documents([], {"alpha": ARTICLES["alpha"]}, pipeline.Settings(), []))
    pending = local.submit(documents)
    assert Pool.sent == [] and not pending.done()
    starting.set_result(Pool())
    assert Pool.sent == [["alpha"]]
    failed: Future[Pool] = Future()
    doomed = workers.LocalPool(failed, 2).submit(documents)  # type: ignore[arg-type]
    failed.set_exception(OSError("no fork server"))
    with pytest.raises(OSError, match="no fork server"):
        doomed.result()


@pytest.mark.slow
def test_a_script_that_builds_with_workers_unguarded_fails_with_the_remedy_instead_of_hanging(tmp_path: Path) -> None:
    # Each worker imports the script that started the build; without the usual guard it
    # would build again, which multiprocessing refuses, and the workers could not start.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from kg import pipeline\n"
        f"pipeline.build(texts={dict(ARTICLES)!r}, settings=pipeline.Settings(workers=2))\n"
    )
    finished = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert finished.returncode != 0
    assert "kg.pipeline.BuildError: a worker process died" in finished.stderr
    assert "if __name__ == \"__main__\":" in finished.stderr
    guarded = tmp_path / "guarded.py"
    guarded.write_text(
        "from kg import pipeline\n"
        "if __name__ == '__main__':\n"
        f"    print(len(pipeline.build(texts={dict(ARTICLES)!r}, settings=pipeline.Settings(workers=2)).resolution.claims))\n"
    )
    assert subprocess.run([sys.executable, str(guarded)], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=True).stdout == "3\n"
