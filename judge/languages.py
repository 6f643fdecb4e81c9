"""The languages submissions may use, keyed by their Judge0 CE 1.13 ids.

`available` here means the local toolchain is installed; the judge issue adds the sandbox
and Judge0 checks behind the same function.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSpec:
    judge0_id: int
    key: str
    name: str
    toolchain: tuple[str, ...]
    source_file: str


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(71, "python", "Python 3", ("python3",), "script.py"),
    LanguageSpec(54, "cpp", "C++ (GCC)", ("g++",), "main.cpp"),
    LanguageSpec(50, "c", "C (GCC)", ("gcc",), "main.c"),
    LanguageSpec(62, "java", "Java (OpenJDK)", ("javac", "java"), "Main.java"),
    LanguageSpec(63, "javascript", "JavaScript (Node.js)", ("node",), "script.js"),
)

BY_ID = {spec.judge0_id: spec for spec in LANGUAGES}

ALIASES = {
    "python3": "python",
    "py": "python",
    "c++": "cpp",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
}


def find(term: str | int) -> LanguageSpec | None:
    """A language by Judge0 id, key, alias or display name (case-insensitive)."""
    if isinstance(term, int) or str(term).isdigit():
        return BY_ID.get(int(term))
    wanted = str(term).strip().lower()
    wanted = ALIASES.get(wanted, wanted)
    for spec in LANGUAGES:
        if wanted in (spec.key, spec.name.lower()):
            return spec
    return None


def toolchain_installed(spec: LanguageSpec) -> bool:
    return all(shutil.which(binary) for binary in spec.toolchain)
