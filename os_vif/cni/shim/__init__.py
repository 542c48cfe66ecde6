"""Builds the C client ``os-vif-cni`` (``os_vif_cni.c`` beside this file).

The client is what a runtime executes; it is compiled on the host with the
distribution's C compiler (``cc``), with the daemon command and the socket
path built in (both can be overridden at run time by
``$OS_VIF_CNI_DAEMON`` and ``$OS_VIF_CNI_SOCKET``)::

    os-vif-cni-build-client /usr/lib/cni/os-vif-cni

By default the built-in daemon command is this Python's
``-m os_vif.cni.server``, so the client starts the daemon of the
installation that built it, whatever ``PATH`` the runtime gives it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence

__all__ = ["SOURCE", "default_daemon_command", "build", "main"]

#: The client's source.
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "os_vif_cni.c")


def default_daemon_command() -> str:
    """This installation's daemon, as a shell command."""
    return "exec %s -m os_vif.cni.server" % shlex.quote(sys.executable)


def _c_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"%s"' % escaped


def build(dest: str, daemon_command: str | None = None,
          socket_path: str | None = None, cc: str | None = None) -> str:
    """Compile the client to ``dest`` (atomically); returns ``dest``.

    :raises RuntimeError: no C compiler, or it failed (its output says
        why).
    """
    compiler = cc or os.environ.get("CC") or "cc"
    if shutil.which(compiler) is None:
        raise RuntimeError("no C compiler (%s) to build the os-vif-cni "
                           "client; install gcc" % compiler)
    if daemon_command is None:
        daemon_command = default_daemon_command()
    defines = ["-DOS_VIF_CNI_DAEMON=" + _c_string(daemon_command)]
    if socket_path is not None:
        defines.append("-DOS_VIF_CNI_SOCKET=" + _c_string(socket_path))
    directory = os.path.dirname(os.path.abspath(dest))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".os-vif-cni-")
    os.close(fd)
    try:
        proc = subprocess.run(
            [compiler, "-O2", "-Wall", "-Wextra", "-Werror", *defines,
             "-o", tmp, SOURCE], capture_output=True, text=True,
            check=False)
        if proc.returncode != 0:
            raise RuntimeError("building the os-vif-cni client failed:\n"
                               + proc.stdout + proc.stderr)
        os.chmod(tmp, 0o755)
        os.rename(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``os-vif-cni-build-client DEST``."""
    parser = argparse.ArgumentParser(
        prog="os-vif-cni-build-client",
        description="Compile the os-vif-cni client a runtime executes.")
    parser.add_argument("dest", help="where to put it, e.g. "
                        "/usr/lib/cni/os-vif-cni")
    parser.add_argument("--daemon-command", help="the shell command that "
                        "starts the daemon (default: %s)"
                        % default_daemon_command())
    parser.add_argument("--socket", help="the daemon's socket (default: "
                        "/run/os-vif/cni.sock)")
    parser.add_argument("--cc", help="the C compiler (default: $CC or cc)")
    args = parser.parse_args(argv)
    try:
        build(args.dest, args.daemon_command, args.socket, args.cc)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
