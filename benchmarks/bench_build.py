"""How close `kg build` runs to spaCy's own speed, how cheap rebuilds are, how fast the
exports write, and how much memory a build takes, on real newswire.

    .venv/bin/python benchmarks/bench_build.py [--words 1000000] [--corpora ../shared/corpora]

Everything is measured in one run on one slice of the corpora (BBC business and tech
first, then Reuters), so the ratios compare like with like; the figures themselves vary
with the machine and its load. Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["bbc/bbc-business", "bbc/bbc-tech", *(f"reuters21578/reuters21578-{n:03d}" for n in range(22))]


def corpus_slice(corpora: Path, words: int) -> list[dict]:
    """Articles in reading order until ``words`` whitespace-separated words."""
    records, total = [], 0
    for name in ORDER:
        with gzip.open(corpora / f"{name}.jsonl.gz", "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                text = f"{record.get('title', '')}\n\n{record['text']}"
                records.append({"id": record["id"], "text": text, "title": record.get("title")})
                total += len(text.split())
                if total >= words:
                    return records
    return records


def write_corpus(path: Path, records: list[dict]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")


class PeakMemory:
    """The largest resident memory of a process and all its children, sampled."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while True:
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                return
            time.sleep(0.1)


def timed(command: list[str]) -> tuple[float, int, str]:
    """Wall time, peak memory of the process tree, and what it printed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(process.pid)
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{err}")
    return elapsed, memory.peak, out


BARE = """
import gzip, json, sys, time, spacy
from kg import nlp
texts = [json.loads(line)["text"] for line in gzip.open(sys.argv[1], "rt", encoding="utf-8")]
model = nlp.load()
started = time.perf_counter()
for _ in model.pipe(texts, batch_size=32, n_process=int(sys.argv[2])):
    pass
print(time.perf_counter() - started)
"""

EXPORTS = """
import dataclasses, sys, time
from pathlib import Path
from kg import export, pipeline
from kg.graph import Iris, build_graph
from kg.resolve import resolve

def renamed(extraction, copy):
    # The same article under another id: another source, with claims and evidence of its own.
    def doc_id(record):
        return dataclasses.replace(record, doc_id=f"{record.doc_id}~{copy}")
    def mention(record):
        return None if record is None else doc_id(record)
    return dataclasses.replace(
        extraction,
        document=dataclasses.replace(extraction.document, id=f"{extraction.document.id}~{copy}"),
        mentions=tuple(map(doc_id, extraction.mentions)),
        relations=tuple(dataclasses.replace(doc_id(r), subject=doc_id(r.subject), object=mention(r.object), reported_by=mention(r.reported_by)) for r in extraction.relations),
        aliases=tuple(map(doc_id, extraction.aliases)),
    )

settings = pipeline.Settings(workers=2, cache_dir=Path(sys.argv[2]))
extractions = list(pipeline.extract_all(pipeline.stream_documents([Path(sys.argv[1])], {}, settings, []), settings))
target, copies = int(sys.argv[3]), 1
while True:
    resolution = resolve([renamed(e, copy) for copy in range(copies) for e in extractions])
    graph = build_graph(resolution, pipeline.build_info(settings))
    if len(graph.quads) >= target:
        break
    copies = int(copies * target / len(graph.quads)) + 1
quads = len(graph.quads)
for name, render in export.RDF_FILES.items():
    started = time.perf_counter()
    render(graph)
    print(name, quads, time.perf_counter() - started)
started = time.perf_counter()
export.graphml(resolution, Iris())
print("graph.graphml", quads, time.perf_counter() - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--growth-words", type=int, default=3_000_000, help="the larger slice, for how peak memory grows with the corpus")
    parser.add_argument("--export-triples", type=int, default=1_000_000, help="the size of the graph the exports are timed on")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args()
    python = sys.executable
    kg = [python, "-m", "kg", "build", "--quiet"]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
        folder = Path(scratch)
        records = corpus_slice(args.corpora, args.words)
        words = sum(len(r["text"].split()) for r in records)
        corpus = folder / "corpus.jsonl.gz"
        write_corpus(corpus, records)
        extra = corpus_slice(args.corpora, int(args.words * 1.01))[len(records) :] or [dict(records[0], id=f"{records[0]['id']}-new")]
        print(f"slice: {len(records)} articles, {words:,} words")

        bare: dict[int, float] = {}
        for processes in (1, 2):
            bare[processes] = float(subprocess.run([python, "-c", BARE, str(corpus), str(processes)], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
            print(f"bare nlp.pipe, {processes} process(es) {words / bare[processes]:>9,.0f} words/s", flush=True)
        one, rss_one, _ = timed([*kg, str(corpus), "-o", str(folder / "out1"), "--workers", "1", "--no-cache"])
        print(f"kg build, 1 worker         {words / one:>9,.0f} words/s   ratio to bare (1 process): {bare[1] / one:.2f}   (whole command: start-up, resolution, RDF, exports, store)", flush=True)
        two, rss_two, _ = timed([*kg, str(corpus), "-o", str(folder / "out2"), "--workers", "2", "--cache", str(folder / "cache")])
        print(f"kg build, 2 workers        {words / two:>9,.0f} words/s   ratio to 1 worker: {one / two:.2f}   ratio to bare (2 processes): {bare[2] / two:.2f}", flush=True)
        unchanged, _, _ = timed([*kg, str(corpus), "-o", str(folder / "out2"), "--workers", "2", "--cache", str(folder / "cache")])
        print(f"no-change rebuild          {unchanged:>9.1f} s      fraction of the full build: {unchanged / two:.3f}", flush=True)
        write_corpus(corpus, records + extra)  # the next articles of the slice, added at the end of the same file
        added, _, _ = timed([*kg, str(corpus), "-o", str(folder / "out2"), "--workers", "2", "--cache", str(folder / "cache")])
        print(f"rebuild after adding 1%    {added:>9.1f} s      fraction of the full build: {added / two:.3f}", flush=True)
        exports = subprocess.run([python, "-c", EXPORTS, str(corpus), str(folder / "cache"), str(args.export_triples)], capture_output=True, text=True, check=True, cwd=ROOT).stdout
        total = 0.0
        for line in exports.splitlines():
            name, triples, seconds = line.split()
            total += float(seconds)
            print(f"export {name:<20}{int(triples) / float(seconds):>9,.0f} triples/s ({int(triples):,} quads, {float(seconds):.2f} s)")
        print(f"exports in total          {total:>9.1f} s", flush=True)
        print(f"peak RSS, 1 worker         {rss_one / 2**20:>9,.0f} MiB")
        print(f"peak RSS, 2 workers        {rss_two / 2**20:>9,.0f} MiB", flush=True)
        # The larger slice begins with the smaller, whose extractions the cache holds: the
        # same settings as the 2-worker build, parsing the rest.
        larger = folder / "larger.jsonl.gz"
        write_corpus(larger, corpus_slice(args.corpora, args.growth_words))
        _, rss_larger, _ = timed([*kg, str(larger), "-o", str(folder / "out3"), "--workers", "2", "--cache", str(folder / "cache")])
        print(f"peak RSS, {args.growth_words / 1e6:g}M words, 2 workers {rss_larger / 2**20:>5,.0f} MiB   growth from {args.words / 1e6:g}M words: {rss_larger / rss_two - 1:+.0%}")


if __name__ == "__main__":
    main()
