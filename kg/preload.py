"""Imported by the fork server that starts the worker processes: every worker forked from
it has spaCy loaded and warmed up already (see kg.workers.runner)."""
import gc
from contextlib import suppress

from kg.workers import load_pipeline

# A pipeline that fails to load here fails again, with its message, in each worker.
with suppress(Exception):
    load_pipeline()

# What is loaded stays for the life of the fork server and of each worker: out of the cycle
# collector's sight, a worker does not copy the pages of spaCy's objects when a collection
# touches them, and the fork server's last collection, when the build ends, is instant
# (a tenth of a second later, the build's output streams close).
gc.freeze()
