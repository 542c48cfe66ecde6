"""Implementation of :mod:`os_vif.serialization` (private).

``catalog`` describes every os_vif class as the serialisers see it,
``encode`` writes primitives and compact documents, ``decode`` reads them
strictly, ``schema`` produces JSON Schemas and ``negotiation`` fits a VIF to
what a host reported.  Only :mod:`os_vif.serialization` is public.
"""
