"""Where the per-document stages (spaCy, extraction) run: in this process, in a pool of
processes on this machine, or on a Dask cluster. Batches go out in order and their
results come back in the same order, so the output never depends on the runner."""
from __future__ import annotations

import itertools
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator

from kg import nlp
from kg.extract import extract
from kg.types import Document, DocumentExtraction


def batched(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Lists of ``size`` documents (the last may be shorter), read lazily."""
    iterator = iter(documents)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def extract_batch(documents: list[Document]) -> list[DocumentExtraction]:
    """spaCy and extraction over one batch (the unit of work sent to a worker)."""
    return [extract(document, pieces) for document, pieces in nlp.parse(documents)]


def _load_pipeline() -> None:
    nlp.load()


def run_local(batches: Iterable[list[Document]], workers: int) -> Iterator[list[DocumentExtraction]]:
    """In this process for one worker; otherwise a pool of processes, each loading spaCy
    once, fed batches as they come so memory stays bounded."""
    if workers <= 1:
        yield from map(extract_batch, batches)
        return
    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        return  # everything came from the cache: starting workers would cost more than the build
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers, initializer=_load_pipeline) as pool:
        yield from pool.imap(extract_batch, itertools.chain([first], batches))


def run_dask(batches: Iterable[list[Document]], address: str) -> Iterator[list[DocumentExtraction]]:
    """On a Dask cluster: a bounded window of batches in flight, results in order."""
    from dask.distributed import Client

    with Client(address) as client:
        window = 2 * max(1, len(client.scheduler_info().get("workers", {})))
        in_flight: deque = deque()
        for batch in batches:
            in_flight.append(client.submit(extract_batch, batch, pure=False))
            if len(in_flight) >= window:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
