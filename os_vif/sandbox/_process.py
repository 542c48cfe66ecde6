"""Running the sandbox's helper programs (ovs-vsctl, ovsdb-server, openssl).

One rule for all of them: the output is captured, a program that hangs is
stopped after a minute, and one that fails raises the caller's error with
its command line and everything it printed, which is what a failed test
needs to be understood.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence

__all__ = ["run"]


def run(
    argv: Sequence[str],
    error: type[Exception],
    what: str,
    *,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> str:
    """Run ``argv`` and return its standard output.

    :raises error: the program exited non-zero; the message says ``what``
        failed, with the command line, standard error and output.
    """
    result = subprocess.run(
        list(argv), preexec_fn=preexec_fn, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )
    if result.returncode != 0:
        raise error(
            "%s failed (%s): %s%s"
            % (what, " ".join(argv), result.stderr, result.stdout)
        )
    return result.stdout
