#!/usr/bin/env python3
"""Set up newskg in ./.venv and run it: the two commands of the README.

    python3.11 dev.py build   # set up, then build seeds/ into output/
    python3.11 dev.py test    # set up with the test tools, then run the whole test suite

Set-up is idempotent: it reinstalls only when pyproject.toml or constraints.txt changed.
Anything after the command is passed on (to ``kg build`` or to ``pytest``).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def set_up(extras: str) -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"newskg needs Python 3.11; this is {sys.version.split()[0]} (run it with python3.11)")
    marker = VENV / f".installed-{extras or 'base'}"
    if marker.exists() and marker.read_text() == _fingerprint(extras):
        return
    if not PYTHON.exists():
        print("creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    print(f"installing newskg{'[' + extras + ']' if extras else ''} into .venv", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", "constraints.txt", "-e", target],
        cwd=ROOT,
        check=True,
    )
    marker.write_text(_fingerprint(extras))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "build":
        set_up("")
        return subprocess.run([str(BIN / "kg"), "build", *rest], cwd=ROOT).returncode
    set_up("test")
    return subprocess.run([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
