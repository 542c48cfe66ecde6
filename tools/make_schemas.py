"""Write (or check) the JSON Schemas published in doc/source/schemas.

One file per format, ``os_vif.compact.json`` and ``os_vif.primitive.json``:
every os_vif class at every version this release reads, as ``$defs``
``<Name>-<version>``; the schema itself accepts any os_vif object.  The
schema of one class at one version is ``os-vif schema NAME --version V``.

Usage::

    python tools/make_schemas.py            # rewrite the files
    python tools/make_schemas.py --check    # exit 1 if they are stale

The unit tests run the check, so a change to an object that is not
reflected in the published schemas fails CI.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "doc" / "source" / "schemas"


def render(fmt: str) -> str:
    sys.path.insert(0, str(ROOT))
    from os_vif._serialization import schema

    return json.dumps(schema.bundle(fmt), indent=1) + "\n"


def stale() -> list[pathlib.Path]:
    from os_vif._serialization import schema

    found = []
    for fmt in schema.FORMATS:
        path = OUT / ("os_vif.%s.json" % fmt)
        if not path.exists() or path.read_text() != render(fmt):
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    paths = stale()
    if args.check:
        for path in paths:
            print("stale: %s (run tools/make_schemas.py)" % path)
        return 1 if paths else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path in paths:
        fmt = path.name.split(".")[1]
        path.write_text(render(fmt))
        print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
