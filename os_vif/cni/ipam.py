"""Delegation of addresses to a standard IPAM plugin.

The network configuration's ``ipam.type`` names an executable found in
``CNI_PATH`` (Debian's ``containernetworking-plugins`` installs
``host-local`` in ``/usr/lib/cni``).  It is run as the spec says a
delegated plugin is: the same environment (with the command and, for GC's
per-attachment release, the attachment's container id and interface) and
the same network configuration on stdin.  Its error is passed on as it is
(same code, message and details), its message prefixed with the plugin's
name.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from os_vif.cni import protocol
from os_vif.cni.protocol import CniError, Command, ErrorCode

__all__ = ["TIMEOUT", "find_plugin", "plugin_versions", "speaks",
           "delegate"]

#: How long an IPAM plugin may take (seconds) before the call fails.
TIMEOUT = 60.0


def find_plugin(name: str, path: Sequence[str]) -> str:
    """The executable of the plugin ``name`` in ``path`` (``CNI_PATH``)."""
    if not name or "/" in name or name in (".", ".."):
        raise CniError(ErrorCode.INVALID_CONFIG,
                       "ipam.type must be a plugin name",
                       "ipam.type=%r" % name)
    for directory in path:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise CniError(ErrorCode.INVALID_CONFIG,
                   "the IPAM plugin %s is not in CNI_PATH" % name,
                   "CNI_PATH=%s" % ":".join(path))


# (path, mtime, size) -> the plugin's supported versions.
_VERSIONS: dict[tuple[str, int, int], tuple[str, ...]] = {}
_VERSIONS_LOCK = threading.Lock()


def plugin_versions(executable: str,
                    timeout: float = TIMEOUT) -> tuple[str, ...]:
    """The versions a plugin supports, by its VERSION (cached)."""
    st = os.stat(executable)
    key = (executable, st.st_mtime_ns, st.st_size)
    with _VERSIONS_LOCK:
        known = _VERSIONS.get(key)
    if known is not None:
        return known
    try:
        proc = subprocess.run(
            [executable], input=b'{"cniVersion": "%s"}'
            % protocol.SPEC_VERSION.encode(), capture_output=True,
            env={"CNI_COMMAND": "VERSION"}, timeout=timeout, check=True)
        versions = json.loads(proc.stdout)["supportedVersions"]
        if not isinstance(versions, list):
            raise TypeError("supportedVersions is not a list")
        found = tuple(str(v) for v in versions)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError,
            TypeError) as exc:
        raise CniError(ErrorCode.IO_FAILURE,
                       "cannot read the versions of the plugin %s"
                       % executable, str(exc)) from exc
    with _VERSIONS_LOCK:
        _VERSIONS[key] = found
    return found


def speaks(config: Mapping[str, Any], path: Sequence[str],
           version: str = protocol.SPEC_VERSION) -> bool:
    """Whether the IPAM plugin of ``config`` supports ``version`` (GC and
    STATUS are passed on only to a plugin that speaks 1.1.0)."""
    ipam = config.get("ipam")
    if not isinstance(ipam, Mapping) or not ipam.get("type"):
        return False
    return version in plugin_versions(find_plugin(str(ipam["type"]), path))


def _version_for(executable: str, wanted: str) -> str:
    versions = plugin_versions(executable)
    if wanted in versions:
        return wanted
    limit = protocol.parse_version(wanted)
    usable = []
    for version in versions:
        try:
            parsed = protocol.parse_version(version)
        except CniError:
            continue
        # 0.3.x results are 0.4.0's; older ones have another shape.
        if (0, 3, 0) <= parsed <= limit:
            usable.append((parsed, version))
    if not usable:
        raise CniError(ErrorCode.INCOMPATIBLE_VERSION,
                       "the IPAM plugin %s supports no version up to %s"
                       % (os.path.basename(executable), wanted),
                       "supportedVersions=%s" % ", ".join(versions))
    return max(usable)[1]


def delegate(command: Command, call: protocol.Call,
             config: Mapping[str, Any],
             env: Mapping[str, str] | None = None,
             timeout: float = TIMEOUT) -> protocol.Result | None:
    """Run the IPAM plugin of ``config`` for ``command``.

    ``call`` gives the environment (``env`` overrides variables of it, as
    GC does for each attachment it releases).  Returns ADD's result, None
    for the other commands; raises the plugin's error as a
    :class:`CniError`.
    """
    ipam = config.get("ipam")
    if not isinstance(ipam, Mapping) or not ipam.get("type"):
        raise CniError(ErrorCode.INVALID_CONFIG,
                       "the network configuration has no ipam.type",
                       "ipam=%r" % (ipam,))
    name = str(ipam["type"])
    executable = find_plugin(name, call.path)
    wanted = str(config.get("cniVersion"))
    version = _version_for(executable, wanted)
    if version != wanted:
        config = dict(config, cniVersion=version)
        if config.get("prevResult") is not None:
            config["prevResult"] = protocol.Result.parse(
                config["prevResult"], wanted).document(version)
    environ = call.environ(CNI_COMMAND=command.value, **(env or {}))
    try:
        proc = subprocess.run(
            [executable], input=json.dumps(config).encode(),
            capture_output=True, env=environ, timeout=timeout,
            check=False)
    except subprocess.TimeoutExpired:
        raise CniError(ErrorCode.TRY_AGAIN_LATER,
                       "the IPAM plugin %s did not answer %s in %g s"
                       % (name, command.value, timeout)) from None
    except OSError as exc:
        raise CniError(ErrorCode.IO_FAILURE,
                       "cannot run the IPAM plugin %s" % name,
                       "%s: %s" % (executable, exc)) from exc
    if proc.returncode != 0:
        raise _plugin_error(name, command, proc)
    if command is not Command.ADD:
        return None
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise CniError(ErrorCode.DECODING_FAILURE,
                       "the IPAM plugin %s answered ADD with no JSON" % name,
                       proc.stdout.decode(errors="replace")[:500]) from None
    return protocol.Result.parse(doc, version)


def _plugin_error(name: str, command: Command,
                  proc: subprocess.CompletedProcess[bytes]) -> CniError:
    try:
        doc = json.loads(proc.stdout)
        code = int(doc["code"])
        msg = str(doc.get("msg", ""))
        details = str(doc.get("details", ""))
    except (ValueError, KeyError, TypeError):
        # Not the spec's error: say what it printed.
        return CniError(
            ErrorCode.IO_FAILURE,
            "the IPAM plugin %s failed %s with exit status %d"
            % (name, command.value, proc.returncode),
            (proc.stdout + proc.stderr).decode(errors="replace")[:500])
    return CniError(code, "%s: %s" % (name, msg), details)
