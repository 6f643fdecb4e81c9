"""How every benchmark ends: its table of figures on stdout, its raw figures in a JSON file."""

from __future__ import annotations

import json
from pathlib import Path


def finish(lines: list[str], results: dict, path: Path) -> int:
    print()
    for line in lines:
        print(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"\nraw figures: {path}")
    return 0
