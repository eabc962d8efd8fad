"""Per-document extraction: a parsed document in, plain records out (``document.extract``).

No spaCy object leaves this package, so every later stage is testable without a model.
The package itself imports nothing: its word lists and rules (``rules``) are read by
processes that never load spaCy.
"""
