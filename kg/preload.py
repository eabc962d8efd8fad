"""Imported by the fork server that starts the worker processes: every worker forked from
it has spaCy loaded and warmed up already (see kg.workers.runner)."""
from contextlib import suppress

from kg.workers import load_pipeline

# A pipeline that fails to load here fails again, with its message, in each worker.
with suppress(Exception):
    load_pipeline()
