"""Reading and writing the documents the ``os-vif`` subcommands handle.

A file (or ``-``, standard input) holds one os_vif object or a JSON array
of them, each in either format (:mod:`os_vif.serialization`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from typing import Any

from os_vif import exception, serialization

__all__ = [
    "description",
    "add_file_argument",
    "add_output_arguments",
    "read_objects",
    "read_text",
    "write_document",
]


_UTF8_BOM = b"\xef\xbb\xbf"
_SHORT_ROLE = re.compile(r":[a-z]+:`~[\w.]*?\.?(\w+)`")
_ROLE = re.compile(r":[a-z]+:`([^`]+)`")


def description(docstring: str | None) -> str:
    """A module docstring as ``--help`` text: reST markup removed."""
    text = _SHORT_ROLE.sub(r"\1", docstring or "")
    text = _ROLE.sub(r"\1", text).replace("``", "")
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(textwrap.fill(p, 79) for p in paragraphs)


def add_file_argument(parser: argparse.ArgumentParser, holding: str) -> None:
    """Add the positional FILE argument (``-`` for standard input), a JSON
    file ``holding`` (e.g. "os_vif objects, or a JSON array of them")."""
    parser.add_argument(
        "file",
        metavar="FILE",
        help="JSON file holding %s, in the compact or the primitive format; "
        "'-' reads standard input" % holding,
    )


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--minify``: one line instead of indented JSON."""
    parser.add_argument(
        "--minify",
        action="store_true",
        help="write JSON on one line (the primitive format exactly as "
        "os-vif 5.x's obj_to_primitive and json.dumps write it)",
    )


def read_text(path: str) -> bytes:
    """Return the content of ``path`` (``-``: standard input), size-limited.

    A UTF-8 byte order mark at the start is dropped.

    :raises DeserializationError: larger than the documented limit.
    :raises OSError: the file cannot be read.
    """
    limit = serialization.MAX_DOCUMENT_SIZE
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    if len(data) > limit:
        raise exception.DeserializationError(
            path="", reason="the document exceeds %d bytes" % limit
        )
    # Editors on some systems start UTF-8 files with a byte order mark,
    # which JSON (RFC 8259) lets a reader ignore.
    return data.removeprefix(_UTF8_BOM)


def read_objects(path: str) -> tuple[list[Any], bool]:
    """Load the objects of ``path``; also tell whether it held an array.

    :raises DeserializationError: invalid; ``path`` of the error starts
        with the index in the array (``[2].network.mtu``).
    """
    document = serialization.parse_json(read_text(path))
    if type(document) is not list:
        return [serialization.from_data(document)], False
    if not document:
        raise exception.DeserializationError(
            path="", reason="the array holds no object"
        )
    found = []
    for index, item in enumerate(document):
        try:
            found.append(serialization.from_data(item))
        except exception.DeserializationError as err:
            inner = "" if err.path == "<document>" else err.path
            where = "[%d]" % index + (
                inner if inner.startswith("[") or not inner else "." + inner
            )
            raise exception.DeserializationError(
                path=where, reason=err.reason
            ) from None
    return found, True


def write_document(document: Any, minify: bool, compact: bool) -> None:
    """Print ``document`` (a JSON-ready value) on standard output."""
    if minify:
        separators = (",", ":") if compact else None
        text = json.dumps(document, separators=separators)
    else:
        text = json.dumps(document, indent=2)
    sys.stdout.write(text + "\n")
