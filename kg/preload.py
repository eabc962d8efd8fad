"""Imported by the fork server that starts the worker processes: every worker forked from
it has spaCy loaded and warmed up already (see kg.workers.runner)."""
import gc
import os
from contextlib import suppress

STARTED_BY = os.getppid()  # the process id of the command that started this fork server

# Importing spaCy takes most of the load. A command that has ended meanwhile (``kg build``
# starts this server first, and may then find its output up to date) wants no worker: the
# server stops there rather than load the model for nobody.
with suppress(Exception):
    import spacy  # noqa: F401
if os.getppid() != STARTED_BY:
    os._exit(0)

from kg.workers import load_pipeline  # noqa: E402

# A pipeline that fails to load here fails again, with its message, in each worker.
with suppress(Exception):
    load_pipeline()

# What is loaded stays for the life of the fork server and of each worker: out of the cycle
# collector's sight, a worker does not copy the pages of spaCy's objects when a collection
# touches them, and the fork server's last collection, when the build ends, is instant
# (a tenth of a second later, the build's output streams close).
gc.freeze()
