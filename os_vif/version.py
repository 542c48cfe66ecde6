"""os-vif 5.x's ``os_vif.version``, kept for code that imports it.

Deprecated (already in 5.x): importing it emits a
:class:`DeprecationWarning`.  Read the installed version with
``importlib.metadata.version("os-vif")``.

``version_info`` answers as pbr's ``VersionInfo("os-vif")`` did in 5.x,
for this os_vif's version: pbr's own object when pbr is installed (every
oslo library needs it), else a small stand-in with the methods callers
use.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from typing import Any

__all__ = ["version_info"]

warnings.warn(
    "os_vif.version is deprecated and will be removed: use "
    'importlib.metadata.version("os-vif")',
    DeprecationWarning,
    stacklevel=2,
)

_PACKAGE = "os-vif"


class _VersionInfo:
    """The part of pbr's ``VersionInfo`` callers use, without pbr."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.version = importlib.metadata.version(package)

    def __str__(self) -> str:
        return self.version

    def __repr__(self) -> str:
        return "VersionInfo(%s:%s)" % (self.package, self.version)

    def version_string(self) -> str:
        """The version, e.g. ``6.0.0``."""
        return self.version

    def release_string(self) -> str:
        """The version with any pre-release or development suffix."""
        return self.version

    canonical_version_string = version_string

    def cached_version_string(self, prefix: str = "") -> str:
        """``prefix`` followed by the version."""
        return prefix + self.version


def _version_info() -> Any:
    try:
        from pbr import version as pbr_version
    except ImportError:
        return _VersionInfo(_PACKAGE)
    return pbr_version.VersionInfo(_PACKAGE)


#: This os_vif's version, as ``pbr.version.VersionInfo("os-vif")``.
version_info = _version_info()
__version__ = version_info.version_string()
