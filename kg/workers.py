"""Where the per-document stages (spaCy, extraction) run: in this process, in a pool of
processes on this machine, or on a Dask cluster. A runner takes batches one at a time and
hands back a future for each; the caller keeps a bounded window of them in flight, so
memory stays bounded and the output never depends on the runner."""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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


class WorkersFailed(RuntimeError):
    """The worker processes died: killed, out of memory, or unable to start."""


class LocalPool:
    """Processes on this machine with spaCy loaded. The pool is started in the background
    (``starting``), so a rebuild reads the corpus and its cached results while the workers
    get ready for the new documents.

    A pool of concurrent.futures, not of multiprocessing: when a worker dies, it fails the
    batches instead of starting another worker in its place. A worker that cannot start
    (a script that builds without ``if __name__ == "__main__":``, which each worker imports
    and so runs again) would otherwise be replaced forever, and the build never end."""

    def __init__(self, starting: Future[ProcessPoolExecutor], workers: int) -> None:
        self.starting = starting
        self.processes = workers
        self.in_flight = 2 * workers

    def submit(self, batch: list[Document]) -> Pending:
        """Never waits for the pool to start: a batch submitted before is sent when it has."""
        done: Future[list[DocumentExtraction]] = Future()

        def finish(parsed: Future[list[DocumentExtraction]]) -> None:
            error = parsed.exception()
            if isinstance(error, BrokenProcessPool):
                done.set_exception(_died(error))
            elif error is not None:
                done.set_exception(error)
            else:
                done.set_result(parsed.result())

        def send(starting: Future[ProcessPoolExecutor]) -> None:
            try:
                starting.result().submit(extract_batch, batch).add_done_callback(finish)
            except BrokenProcessPool as error:
                done.set_exception(_died(error))
            except BaseException as error:  # the pool did not start
                done.set_exception(error)

        self.starting.add_done_callback(send)
        return done


def _died(error: BrokenProcessPool) -> WorkersFailed:
    return WorkersFailed(
        "a worker process died: killed, out of memory, or unable to start. A Python script that "
        "builds with more than one worker must build under 'if __name__ == \"__main__\":' (each "
        f"worker imports the script), or build with one worker ({error})"
    )


class DaskCluster:
    def __init__(self, client: object) -> None:
        self.client = client
        self.processes = max(1, len(client.scheduler_info().get("workers", {})))  # type: ignore[attr-defined]
        self.in_flight = 2 * self.processes

    def submit(self, batch: list[Document]) -> Pending:
        return self.client.submit(extract_batch, batch, pure=False)  # type: ignore[attr-defined, no-any-return]


def fork_server() -> multiprocessing.context.BaseContext:
    """The fork server's context: the server loads spaCy once (kg.preload) and the workers
    forked from it start with it loaded, one load instead of one per worker. (A fork server
    started earlier keeps what it had; the workers load it then.)"""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kg.preload"])
    return context


def start_fork_server() -> None:
    """Start the fork server now rather than with the first batch, so that spaCy loads while
    the caller imports the rest of newskg and reads its inputs. Nothing waits for it: when
    no worker is wanted after all (an output found up to date), it ends with the caller."""
    fork_server()
    multiprocessing.forkserver.ensure_running()


def _started_pool(context: multiprocessing.context.BaseContext, workers: int) -> ProcessPoolExecutor:
    """A pool with its processes running. concurrent.futures starts them as work comes, and
    the first waits for the fork server to load spaCy, which must not hold up the caller
    of a batch: one call per process to the (by then done) set-up starts them all here."""
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=load_pipeline)
    try:
        for started in [pool.submit(load_pipeline) for _ in range(workers)]:
            started.result()
    except BrokenProcessPool as error:
        pool.shutdown()
        raise _died(error) from error
    return pool


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
        # Starting the pool waits for the fork server to load spaCy, so it starts in a
        # thread while this process reads the corpus.
        with ThreadPoolExecutor(max_workers=1) as starter:
            starting = starter.submit(_started_pool, fork_server(), workers)
            try:
                yield LocalPool(starting, workers)
            except BaseException:
                # An interrupted or failed build does not wait for the batches being parsed.
                # (Python 3.14 has ProcessPoolExecutor.terminate_workers for this.)
                if starting.exception() is None:
                    for process in starting.result()._processes.values():
                        process.terminate()
                raise
            finally:
                if starting.exception() is None:  # else its batches have failed with the reason
                    starting.result().shutdown(wait=False, cancel_futures=True)
