"""Wiring only: sources -> documents -> spaCy -> extraction -> resolution -> RDF -> files."""
from __future__ import annotations

import csv
import gc
import hashlib
import itertools
import json
import os
import shutil
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from functools import cached_property, partial
from pathlib import Path
from typing import TypeVar

from rdflib import Dataset, Graph

from kg import collector, export, ingest, nlp, store, workers
from kg.cache import ExtractionCache, entry_key
from kg.extract.rules import rules_fingerprint
from kg.graph import BuildInfo, Iris, RdfGraph, build_graph
from kg.ids import DEFAULT_BASE_IRI, is_base_iri
from kg.resolve import KnownEntity, Overrides, Resolution, resolve
from kg.types import ENTITY_TYPES, Document, DocumentExtraction
from kg.validate import Conforming, NonConformingGraph, Violation, check_nquads, conforms, load_shapes
from kg.vocab import data_file

Progress = Callable[[int], None]  # called with the number of documents just finished
STORE_SOURCE = "graph.nq"  # the file the SPARQL store loads
TAIL_PARTS_PER_PROCESS = 4  # how finely the documents left after the last full batch are shared
T = TypeVar("T")


class BuildError(ValueError):
    """A build that cannot produce a graph; the message says why."""


@dataclass(frozen=True, slots=True)
class Settings:
    base_iri: str = DEFAULT_BASE_IRI
    overrides: Overrides = Overrides()
    known_entities: tuple[KnownEntity, ...] = ()
    timestamp: str | None = None
    workers: int = 1  # processes running spaCy and extraction on this machine
    dask: str | None = None  # a Dask scheduler's address: run them on that cluster instead
    cache_dir: Path | None = None  # where extraction results are kept between builds
    documents_per_batch: int = 32  # the unit of work a worker gets: one batch of nlp.parse
    encoding: str = "utf-8"
    max_bytes: int = ingest.MAX_BYTES
    # A graph an earlier build wrote and found to conform (see conforming_output): the check
    # of the shapes then looks only at what changed from it.
    previous_graph: Conforming | None = None


@dataclass
class KnowledgeGraph:
    """A built graph: the records, their RDF, and the files it writes."""

    resolution: Resolution
    rdf: RdfGraph
    base_iri: str = DEFAULT_BASE_IRI
    skipped: list[tuple[str, str]] = field(default_factory=list)
    previous_graph: Conforming | None = None  # as in Settings
    # A process of its own to check the shapes and update the store in (see
    # build_from_documents), which the next write uses and stops; without one, threads.
    checker: ProcessPoolExecutor | None = field(default=None, repr=False)

    @cached_property
    def graph(self) -> Graph:
        """Every triple in one rdflib Graph, made when first asked for (the build needs none)."""
        return Graph().parse(data=export.turtle(self.rdf), format="turtle")

    @cached_property
    def dataset(self) -> Dataset:
        """An rdflib Dataset with one named graph per source, made when first asked for."""
        dataset = Dataset()
        dataset.parse(data=export.trig(self.rdf), format="trig")
        return dataset

    def summary(self) -> dict[str, object]:
        facts = {claim.fact for claim in self.resolution.claims}
        return {
            "sources": len(self.resolution.documents),
            "skipped": [{"path": path, "reason": reason} for path, reason in self.skipped],
            "entities": len(self.resolution.entities),
            "claims": len(self.resolution.claims),
            "facts": len(facts),
            "triples": len(self.rdf),
        }

    def write(self, output: Path, store_dir: Path | None = None) -> list[Path]:
        """Write every export into ``output`` and refresh the SPARQL store (``output/store``
        unless ``store_dir`` names another folder); returns the files written.

        Raises ``NonConformingGraph``, writing nothing, when the graph breaks the shapes of
        ``ontology/shapes.ttl``: users load these files into triple stores unchecked."""
        from kg.view import render_html

        output = Path(output)
        store_folder = store_dir or store.default_store(output)
        renders: dict[str, Callable[[], str | bytes]] = {name: partial(render, self.rdf) for name, render in export.RDF_FILES.items()}
        renders["graph.graphml"] = partial(export.graphml, self.resolution, Iris(self.base_iri))
        renders["graph.html"] = partial(render_html, self.rdf.quads, title="newskg graph", html_dir=output)
        renders["report.md"] = partial(export.report, self.resolution, self.skipped)
        # Each file is staged as it is rendered; all are put in place together, and the store
        # takes the old one's place, once the graph is known to conform: an interrupted or
        # failed build leaves the previous output whole. The N-Quads come first: the shapes
        # are checked on them, and the store loaded from them, beside the rendering of the
        # rest (in native code, or in a process of its own), and each file is written to disk
        # while the next is rendered; no more than two files are held in memory, one
        # rendered, one being written.
        with (
            collector.paused(),
            export.staged_files(output) as stage,
            store.fresh_store(store_folder) as fresh,
            ThreadPoolExecutor(max_workers=2) as pool,
            self._checker() as checker,
        ):
            nquads = stage(STORE_SOURCE, renders[STORE_SOURCE]())
            checked = _beside(checker, check_nquads, nquads, self.previous_graph)
            # A checking process updates the store after the check (its Python would hold this
            # process's GIL against the rendering); beside a checking thread, another thread.
            loader = checker if isinstance(checker, ProcessPoolExecutor) else pool
            loaded = _beside(loader, _load_store, fresh, nquads, store_folder, output / STORE_SOURCE)
            staging: Future[Path] | None = None
            for name in [name for name in renders if name != STORE_SOURCE]:
                content = renders[name]()
                if staging is not None:
                    staging.result()
                staging = pool.submit(stage, name, content)
            if staging is not None:
                staging.result()
            violations = checked()
            if not conforms(violations):
                raise NonConformingGraph(violations)  # once the load ends, its store is deleted
            loaded()
        return [output / name for name in renders]

    @contextmanager
    def _checker(self) -> Iterator[Executor]:
        """The process made for the check, once (it is stopped after it), or a thread."""
        checker, self.checker = self.checker, None
        with checker or ThreadPoolExecutor(max_workers=1) as executor:
            yield executor


def _beside(executor: Executor, function: Callable[..., T], *args: object) -> Callable[[], T]:
    """Start ``function(*args)`` in ``executor``; the call returned waits for its result.
    When the executor's process has died (killed, out of memory), that call runs the
    function here instead, from the start."""
    try:
        running = executor.submit(function, *args)
    except BrokenProcessPool:
        return partial(function, *args)

    def result() -> T:
        try:
            return running.result()
        except BrokenProcessPool:
            return function(*args)

    return result


def _load_store(fresh: Path, nquads: Path, store_folder: Path, previous_nquads: Path) -> None:
    """``store.load`` into the new store's folder, emptied first: a process that died while
    loading it may have left part of a store there."""
    shutil.rmtree(fresh)
    fresh.mkdir()
    store.load(fresh, nquads, store_folder, previous_nquads)


def stream_documents(
    sources: Sequence[Path], texts: Mapping[str, str], settings: Settings, skipped: list[tuple[str, str]]
) -> Iterator[Document]:
    """The articles to build from, one at a time; unreadable inputs go to ``skipped``. Two
    sources with one id (the file name without extension) are an error: ids name sources."""
    seen: set[str] = set()
    items = ingest.documents(sources, encoding=settings.encoding, max_bytes=settings.max_bytes) if sources else iter(())
    typed = (ingest.document_from_text(text, id=doc_id) for doc_id, text in sorted(texts.items()))
    for item in itertools.chain(items, typed):
        if isinstance(item, ingest.Skipped):
            skipped.append((item.path, item.reason))
            continue
        if item.id in seen:
            raise BuildError(f"two sources share the id {item.id!r} ({item.path}): file names (without extension) must be unique")
        seen.add(item.id)
        yield item


def extract_all(documents: Iterable[Document], settings: Settings, progress: Progress | None = None) -> Iterator[DocumentExtraction]:
    """Every document's extraction, from the cache when it holds one, else from spaCy and
    the rules, in this process, in worker processes or on a Dask cluster. The order of
    results is not the order of documents (resolution does not depend on it)."""
    extraction_cache = ExtractionCache(settings.cache_dir) if settings.cache_dir else None
    pipeline_id = f"{nlp.pipeline_version()} rules {rules_fingerprint()}"
    keys: dict[str, str] = {}
    in_flight: deque[workers.Pending] = deque()

    def finished(pending: workers.Pending) -> list[DocumentExtraction]:
        try:
            results = pending.result()
        except workers.WorkersFailed as error:
            raise BuildError(str(error)) from error
        for extraction in results:
            if extraction_cache is not None:
                extraction_cache.put(keys.pop(extraction.document.id), extraction)
        if progress is not None:
            progress(len(results))
        return results

    with workers.runner(settings.workers, settings.dask) as runner:

        def send(batch: list[Document]) -> Iterator[DocumentExtraction]:
            """Submit a batch; yield what is finished, waiting while too many are in flight."""
            in_flight.append(runner.submit(batch))
            while len(in_flight) > runner.in_flight or in_flight and in_flight[0].done():
                yield from finished(in_flight.popleft())

        to_parse: list[Document] = []
        # Documents with a cached result are read after the stream ends, while the workers
        # parse the others: a rebuild's new documents tend to come last, and would otherwise
        # wait for every cached result before them. (The documents are kept either way, in
        # their extractions.)
        cached: list[tuple[str, Document]] = []
        for document in documents:
            if extraction_cache is not None:
                key = entry_key(document, pipeline_id)
                if extraction_cache.holds(key):
                    cached.append((key, document))
                    continue
                keys[document.id] = key
            to_parse.append(document)
            if len(to_parse) == settings.documents_per_batch:
                yield from send(to_parse)
                to_parse = []
        # The last few (less than a batch), in small parts that each process takes as it comes
        # free, so that all finish together however long the articles are. They go at once,
        # whatever is in flight: the workers parse them while this process reads the cache.
        parts = min(len(to_parse), 1 if runner.processes == 1 else TAIL_PARTS_PER_PROCESS * runner.processes)
        for part in range(parts):
            in_flight.append(runner.submit(to_parse[part * len(to_parse) // parts : (part + 1) * len(to_parse) // parts]))
        unreadable: list[Document] = []
        for key, document in cached:
            hit = extraction_cache.get(key, document) if extraction_cache is not None else None
            if hit is None:  # damaged by a crash or another tool: parse it again
                keys[document.id] = key
                unreadable.append(document)
                continue
            if progress is not None:
                progress(1)
            yield hit
            while in_flight and in_flight[0].done():
                yield from finished(in_flight.popleft())
        for start in range(0, len(unreadable), settings.documents_per_batch):
            yield from send(unreadable[start : start + settings.documents_per_batch])
        while in_flight:
            yield from finished(in_flight.popleft())
    if extraction_cache is not None:
        extraction_cache.prune()


BUILD_RECORD = "build.json"  # in the cache folder: what the last build read and wrote


def output_fingerprint(sources: Sequence[Path], settings: Settings) -> str | None:
    """A digest of everything a build's output depends on: the bytes of each input file
    and its path, the settings, the spaCy pipeline, and newskg's code and data files. None
    when builds are not to be compared (no cache, or a timestamp).

    The files are hashed as stored, not read as articles: a build with nothing to do finds
    it out without decoding, analysing or hashing each article of a corpus."""
    if settings.cache_dir is None or settings.timestamp:
        return None
    digest = hashlib.sha256(repr((build_info(settings), settings.encoding, settings.max_bytes, code_fingerprint())).encode())
    for source in ingest.find_sources(sources):
        digest.update(f"{source.as_posix()}\0".encode())
        try:
            with source.open("rb") as file:
                digest.update(hashlib.file_digest(file, "sha256").digest())
        except OSError as error:  # the build reports it as skipped; a later build may read it
            digest.update(f"unreadable: {error}".encode())
    return digest.hexdigest()


def code_fingerprint() -> str:
    """A digest of newskg's code and data files and of the libraries that write its output."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *package.rglob("templates/*"), *data_file().rglob("*")]):
        if path.is_file():
            digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    for dependency in ("rdflib", "pyoxigraph", "networkx", "lxml", "pyvis", "pyshacl-turbo"):
        digest.update(f"{dependency} {version(dependency)}".encode())
    return digest.hexdigest()


def recorded_summary(output: Path, settings: Settings, fingerprint: str | None) -> dict[str, object] | None:
    """The summary of the last build into ``output`` when it read exactly the same inputs
    with the same code and its files are still as it wrote them; else None."""
    if fingerprint is None or settings.cache_dir is None:
        return None
    try:
        record = json.loads((settings.cache_dir / BUILD_RECORD).read_text(encoding="utf-8"))
        if record["fingerprint"] != fingerprint or record["output"] != str(Path(output).resolve()):
            return None
        if any(_file_digest(Path(output) / name) != digest for name, digest in record["files"].items()):
            return None
        if not store.default_store(Path(output)).is_dir():
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    summary: dict[str, object] = record["summary"]
    return summary


def record_build(output: Path, settings: Settings, fingerprint: str | None, written: list[Path], summary: dict[str, object]) -> None:
    if fingerprint is None or settings.cache_dir is None:
        return
    files = {p.name: _file_digest(p) for p in written}
    record = {"fingerprint": fingerprint, "code": code_fingerprint(), "output": str(Path(output).resolve()), "files": files, "summary": summary}
    export.write_atomic(settings.cache_dir / BUILD_RECORD, json.dumps(record, indent=1, sort_keys=True))


def conforming_output(output: Path, cache_dir: Path | None) -> Conforming | None:
    """The N-Quads that the last build into ``output`` wrote, and found to conform, when
    that build ran this code (these shapes, this checker); None when the build record in
    ``cache_dir`` says otherwise, or there is none. (The check trusts the file only if it is
    still as the record says.)"""
    if cache_dir is None:
        return None
    try:
        record = json.loads((cache_dir / BUILD_RECORD).read_text(encoding="utf-8"))
        if record["code"] != code_fingerprint() or record["output"] != str(Path(output).resolve()):
            return None
        return Conforming(Path(output) / STORE_SOURCE, str(record["files"][STORE_SOURCE]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_info(settings: Settings) -> BuildInfo:
    parameters = {"base_iri": settings.base_iri}
    if settings.overrides.same or settings.overrides.different:
        parameters["overrides"] = json.dumps([list(settings.overrides.same), list(settings.overrides.different)])
    if settings.known_entities:
        parameters["known_entities"] = str(len(settings.known_entities))
    return BuildInfo(
        newskg_version=version("newskg"),
        pipeline=nlp.PIPELINE,
        pipeline_version=nlp.pipeline_version(),
        parameters=parameters,
        timestamp=settings.timestamp,
    )


def _kept(extractions: Iterable[DocumentExtraction], every: int = 256) -> list[DocumentExtraction]:
    """The extractions as a list, kept out of the cycle collector's sight as they pile up.
    Every few hundred documents the collector runs once (freeing the cyclic garbage spaCy
    leaves when it parses in this process) and freezes what survives, until the list is made."""
    kept: list[DocumentExtraction] = []
    with collector.paused():
        try:
            for extraction in extractions:
                kept.append(extraction)
                if len(kept) % every == 0:
                    gc.collect()
                    gc.freeze()
        finally:
            gc.unfreeze()
    return kept


def _prepare_to_write(shapes: bool) -> None:
    """Load what writing a graph needs first (the view and its libraries, and the compiled
    shapes when the check is to run in this process: a quarter of a second), in a thread
    while the documents are parsed, when this process mostly waits for its workers, rather
    than at the start of the write."""
    with suppress(Exception):  # the write itself reports what went wrong
        import kg.view  # noqa: F401

        if shapes:
            load_shapes()


def _checker_process() -> ProcessPoolExecutor:
    """A process forked by the workers' fork server, to check the shapes, then update the
    store, in beside the rendering of the files (a build with local workers: its script runs
    under a main guard already), at a lower priority: the rendering, the longest part of the
    write, keeps a core. It starts now and compiles the shapes while this process resolves
    entities and makes the RDF, on a core the workers no longer use. Only for a check of what
    changed: a whole graph is checked in a thread, not parsed again, a few hundred megabytes
    at millions of words, in another process."""
    process = ProcessPoolExecutor(max_workers=1, mp_context=workers.fork_server(), initializer=os.nice, initargs=(10,))
    process.submit(load_shapes)
    return process


def build_from_documents(
    documents: Iterable[Document], settings: Settings = Settings(), progress: Progress | None = None
) -> KnowledgeGraph:
    apart = settings.workers > 1 and not settings.dask and settings.previous_graph is not None
    threading.Thread(target=_prepare_to_write, args=(not apart,), name="prepare-to-write", daemon=True).start()
    extractions = _kept(extract_all(documents, settings, progress))
    if not extractions:
        raise BuildError("no readable article found")
    checker = _checker_process() if apart else None
    try:
        with collector.paused():
            resolution = resolve(extractions, settings.overrides, settings.known_entities)
            rdf = build_graph(resolution, build_info(settings), settings.base_iri)
    except BaseException:
        if checker is not None:
            checker.shutdown(wait=False, cancel_futures=True)
        raise
    graph = KnowledgeGraph(resolution, rdf, settings.base_iri, previous_graph=settings.previous_graph, checker=checker)
    if checker is not None:  # a graph that is never written stops it when it goes
        weakref.finalize(graph, checker.shutdown, wait=False, cancel_futures=True)
    return graph


def build(
    sources: Sequence[Path | str] = (),
    *,
    texts: Mapping[str, str] | None = None,
    settings: Settings = Settings(),
    progress: Progress | None = None,
) -> KnowledgeGraph:
    """Build a graph from files, folders and JSON Lines corpora, and/or from texts keyed
    by document id."""
    if not is_base_iri(settings.base_iri):
        raise BuildError(f"base IRI {settings.base_iri!r} must be an absolute IRI ending in / or #, without spaces, quotes, %, <>, {{}}, | or \\")
    skipped: list[tuple[str, str]] = []
    documents = stream_documents([Path(p) for p in sources], texts or {}, settings, skipped)
    try:
        graph = build_from_documents(documents, settings, progress)
    except BuildError as error:
        if skipped and "no readable article" in str(error):
            reasons = "; ".join(f"{path}: {reason}" for path, reason in skipped)
            raise BuildError(f"no readable article found ({reasons})") from error
        raise
    graph.skipped = skipped
    return graph


def load_overrides(path: Path) -> Overrides:
    """A CSV of ``same,Name A,Name B`` and ``different,Name A,Name B`` lines."""
    same, different = [], []
    with path.open(encoding="utf-8", newline="") as file:
        for number, row in enumerate(csv.reader(file), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 3 or row[0] not in ("same", "different"):
                raise BuildError(f"{path}:{number}: expected 'same,NAME,NAME' or 'different,NAME,NAME'")
            (same if row[0] == "same" else different).append((row[1].strip(), row[2].strip()))
    return Overrides(tuple(same), tuple(different))


def load_known_entities(path: Path) -> tuple[KnownEntity, ...]:
    """A CSV with a header: name, type, aliases (separated by '|'), wikidata (optional)."""
    known = []
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        missing = {"name", "type"} - set(reader.fieldnames or ())
        if missing:
            raise BuildError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for number, row in enumerate(reader, start=2):
            kind = (row.get("type") or "").strip()
            if kind not in ENTITY_TYPES:
                raise BuildError(f"{path}:{number}: type must be one of {', '.join(ENTITY_TYPES)}")
            wikidata = (row.get("wikidata") or "").strip() or None
            if wikidata is not None and not wikidata.startswith("Q") or (wikidata and not wikidata[1:].isdigit()):
                raise BuildError(f"{path}:{number}: wikidata must look like Q42")
            aliases = tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
            known.append(KnownEntity(row["name"].strip(), kind, aliases, wikidata))
    return tuple(known)
