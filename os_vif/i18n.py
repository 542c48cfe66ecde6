"""os-vif 5.x's ``os_vif.i18n``, kept for plugins that import ``_`` from it.

Deprecated: importing it emits a :class:`DeprecationWarning`.  os_vif's
messages are not translated (it ships no message catalogues), and a
plugin's messages belong to the plugin's own translation domain: make one
with ``oslo_i18n.TranslatorFactory(domain="<your package>")`` and use its
``primary`` as ``_``.  Until then, ``_`` here translates in the
``os_vif`` domain, which has no catalogues: it returns its argument (a
lazy ``Message`` when oslo.i18n's lazy mode is on).
"""

from __future__ import annotations

import warnings

import oslo_i18n

__all__ = ["DOMAIN", "translate", "get_available_languages"]

warnings.warn(
    "os_vif.i18n is deprecated and will be removed: a plugin translates its "
    "messages in its own domain, oslo_i18n.TranslatorFactory(domain=...)",
    DeprecationWarning,
    stacklevel=2,
)

#: The translation domain os-vif 5.x used.
DOMAIN = "os_vif"

_translators = oslo_i18n.TranslatorFactory(domain=DOMAIN)

#: Translate a message in the ``os_vif`` domain (see the module).
_ = _translators.primary


def translate(value: str, user_locale: str) -> str:
    """``oslo_i18n.translate``: ``value`` (a lazy message) in a locale."""
    return str(oslo_i18n.translate(value, user_locale))


def get_available_languages() -> list[str]:
    """The languages the ``os_vif`` domain has catalogues for."""
    return list(oslo_i18n.get_available_languages(DOMAIN))
