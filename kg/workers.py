"""Where the per-document stages (spaCy, extraction) run: in this process, in a pool of
processes on this machine, or on a Dask cluster. A runner takes batches one at a time and
hands back a future for each; the caller keeps a bounded window of them in flight, so
memory stays bounded and the output never depends on the runner."""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from typing import Protocol

from kg import ingest, nlp
from kg.types import Document, DocumentExtraction


class Pending(Protocol):
    """A batch's results to come (a concurrent.futures Future, or a Dask one)."""

    def result(self) -> list[DocumentExtraction]: ...

    def done(self) -> bool: ...


class Runner(Protocol):
    in_flight: int  # how many batches to keep going at once
    processes: int  # how many of them run at the same time

    def submit(self, batch: list[Document]) -> Pending: ...


def extract_batch(documents: list[Document]) -> list[DocumentExtraction]:
    """spaCy and extraction over one batch (the unit of work sent to a worker)."""
    # Imported here, where documents are parsed: a build that only merges results (every
    # document cached, or parsed by workers) never imports spaCy.
    from kg.extract.document import extract

    return [extract(document, pieces) for document, pieces in nlp.parse(documents)]


# Parsed once when a worker starts: spaCy and the rules finish setting up on their first
# document, which made a worker's first batch half a second slower than the next.
WARM_UP = "The company said on Monday it would invest $5 million in a startup founded in 2010 by its chief executive."


@cache
def load_pipeline() -> None:
    """spaCy loaded and warmed up, once per process."""
    nlp.load()
    extract_batch([ingest.document_from_text(WARM_UP, id="warm-up")])


class InProcess:
    in_flight = processes = 1

    def submit(self, batch: list[Document]) -> Pending:
        done: Future[list[DocumentExtraction]] = Future()
        done.set_result(extract_batch(batch))
        return done


class LocalPool:
    """Processes on this machine with spaCy loaded. The pool is started in the background
    (``starting``), so a rebuild reads the corpus and its cached results while the workers
    get ready for the new documents."""

    def __init__(self, starting: Future[multiprocessing.pool.Pool], workers: int) -> None:
        self.starting = starting
        self.processes = workers
        self.in_flight = 2 * workers

    def submit(self, batch: list[Document]) -> Pending:
        """Never waits for the pool to start: a batch submitted before is sent when it has."""
        done: Future[list[DocumentExtraction]] = Future()

        def send(starting: Future[multiprocessing.pool.Pool]) -> None:
            try:
                starting.result().apply_async(extract_batch, (batch,), callback=done.set_result, error_callback=done.set_exception)
            except BaseException as error:  # the pool did not start
                done.set_exception(error)

        self.starting.add_done_callback(send)
        return done


class DaskCluster:
    def __init__(self, client: object) -> None:
        self.client = client
        self.processes = max(1, len(client.scheduler_info().get("workers", {})))  # type: ignore[attr-defined]
        self.in_flight = 2 * self.processes

    def submit(self, batch: list[Document]) -> Pending:
        return self.client.submit(extract_batch, batch, pure=False)  # type: ignore[attr-defined, no-any-return]


@contextmanager
def runner(workers: int, dask: str | None = None) -> Iterator[Runner]:
    """In this process for one worker; otherwise a pool of processes, or the Dask cluster
    whose scheduler listens at ``dask``."""
    if dask:
        from dask.distributed import Client

        with Client(dask) as client:
            yield DaskCluster(client)
    elif workers <= 1:
        yield InProcess()
    else:
        # The fork server loads spaCy once (kg.preload) and the workers forked from it start
        # with it loaded: one load instead of one per worker. (A fork server started earlier
        # keeps what it had; the workers load it then.) Starting the pool waits for that
        # load, so it starts in a thread while this process reads the corpus.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["kg.preload"])
        with ThreadPoolExecutor(max_workers=1) as starter:
            starting = starter.submit(context.Pool, workers, initializer=load_pipeline)
            try:
                yield LocalPool(starting, workers)
            finally:
                starting.result().terminate()
