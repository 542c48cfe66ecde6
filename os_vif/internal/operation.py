"""The host-operation model, shared by both sides of the privsep boundary.

Every change os_vif makes to a host -- in the kernel or in OVSDB -- is one
:class:`Operation`: a class per kind of change, in the manner of
ovsdbapp's command classes.  An operation

* takes typed keyword arguments, each checked by its validator when the
  operation is made (:class:`os_vif.exception.InvalidArgument` naming
  ``<operation>.<argument>``), so a plan that exists is a valid plan;
* has a plain-data wire form (:meth:`Operation.to_wire`,
  :meth:`Operation.from_wire`): ``[name, {argument: value}]``, strings,
  numbers, booleans and lists only, which is what crosses the privsep
  socket and what the daemon validates again;
* says, without privilege and without changing anything, what on the host
  differs from what it would make (:meth:`Operation.check`, a list of
  :class:`Problem`);
* is applied where it belongs -- kernel operations in the privsep daemon
  (:mod:`os_vif.internal.privileged`), OVSDB operations in the caller's
  OVSDB transaction (:mod:`os_vif.internal.ovsdb.operations`) -- and, when
  applied, records its undo as more operations.  An undo is therefore
  data too: it can be sent back to the client, journaled by the daemon,
  and run by the same machinery as the plan itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from os_vif import exception, host_state

__all__ = [
    "KERNEL",
    "OVSDB",
    "Validator",
    "Problem",
    "Operation",
    "Registry",
    "invalid",
    "refused",
]

#: The domain of operations run by the privsep daemon.
KERNEL = "kernel"
#: The domain of operations run in an OVSDB transaction.
OVSDB = "ovsdb"

#: ``validator(value, field) -> canonical value``; raises InvalidArgument.
Validator = Callable[[Any, str], Any]


def invalid(field: str, value: Any, reason: str) -> exception.InvalidArgument:
    """Return the InvalidArgument naming ``field``, ``value``, ``reason``."""
    return exception.InvalidArgument(field=field, value=value, reason=reason)


def refused(
    action: str, device: str, rule: str
) -> exception.HostOperationRefused:
    """Return the refusal of ``action`` on ``device`` by ``rule``."""
    return exception.HostOperationRefused(
        operation=action, device=device, rule=rule
    )


#: One thing on the host that differs from what an operation makes: the
#: public :class:`os_vif.host_state.Problem` itself, so that a check's
#: answer reaches the caller as it is.
Problem = host_state.Problem


class Operation:
    """One host change with typed, validated arguments (see the module).

    Subclasses set :attr:`NAME` (the wire name), :attr:`DOMAIN`,
    :attr:`PARAMS` (argument -> validator) and :attr:`REQUIRED`, and
    implement :meth:`check`.  An argument given as ``None`` means "leave
    alone" and is left out, so it never reaches the wire.
    """

    NAME: ClassVar[str] = ""
    DOMAIN: ClassVar[str] = KERNEL
    PARAMS: ClassVar[Mapping[str, Validator]] = {}
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name"})
    #: The argument that names the object acted upon, for messages.
    DEVICE_ARG: ClassVar[str] = "name"
    #: Many plans of a batch often hold this very operation (a bridge all
    #: their ports go on): a batch checks and admits it once.  Only for
    #: operations whose check reads nothing but their own arguments' objects.
    SHARED: ClassVar[bool] = False

    __slots__ = ("arguments",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Each argument's validator with the field name its errors give,
        # made once per class: a batch builds thousands of operations.
        cls._SPECS = {
            key: (validator, "%s.%s" % (cls.NAME, key))
            for key, validator in cls.PARAMS.items()
        }

    _SPECS: ClassVar[Mapping[str, tuple[Validator, str]]] = {}

    def __init__(self, /, **arguments: Any) -> None:
        """Validate ``arguments``; raise InvalidArgument on a bad one."""
        canonical: dict[str, Any] = {}
        specs = self._SPECS
        for key, value in arguments.items():
            if value is None:
                continue
            spec = specs.get(key)
            if spec is None:
                raise invalid(
                    "%s argument" % self.NAME,
                    key,
                    "%s takes no such argument" % self.NAME,
                )
            canonical[key] = spec[0](value, spec[1])
        if not self.REQUIRED <= canonical.keys():
            missing = sorted(self.REQUIRED - canonical.keys())
            raise invalid(
                "%s.%s" % (self.NAME, missing[0]),
                None,
                "this argument is required",
            )
        self.arguments: dict[str, Any] = canonical

    @property
    def shared(self) -> bool:
        """Tell whether a batch checks and admits this operation once.

        :attr:`SHARED`, unless the arguments say the object is one plan's.
        """
        return self.SHARED

    def get(self, key: str, default: Any = None) -> Any:
        """Return the argument ``key`` (``default`` when not given)."""
        return self.arguments.get(key, default)

    @property
    def device(self) -> str:
        """The name of the object this operation acts upon."""
        return str(self.arguments.get(self.DEVICE_ARG, ""))

    def to_wire(self) -> list[Any]:
        """Return the plain-data form ``[name, {argument: value}]``."""
        return [
            self.NAME,
            {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in self.arguments.items()
            },
        ]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Return what differs on the host from what this would make.

        Reads only (netlink, sysfs, ``/proc/sys``, the OVSDB cache of the
        ovsdbapp API ``ovsdb``, which OVSDB operations need), needs no
        privilege, changes nothing.  Empty: applying it changes nothing.
        """
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Operation)
            and other.arguments == self.arguments
        )

    def __hash__(self) -> int:
        return hash((self.NAME, repr(sorted(self.arguments.items()))))

    def __repr__(self) -> str:
        return "%s(%s)" % (
            type(self).__name__,
            ", ".join(
                "%s=%r" % item for item in sorted(self.arguments.items())
            ),
        )


class Registry:
    """The operation classes one side accepts, by wire name."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.classes: dict[str, type[Operation]] = {}

    def register(self, cls: type[Operation]) -> type[Operation]:
        """Class decorator: accept ``cls`` under its wire name."""
        if cls.DOMAIN != self.domain:
            raise AssertionError(
                "%s is not a %s operation" % (cls, self.domain)
            )
        if cls.NAME in self.classes:
            raise AssertionError("operation %s registered twice" % cls.NAME)
        self.classes[cls.NAME] = cls
        return cls

    def from_wire(self, step: Any) -> Operation:
        """Make the operation a wire step describes, validating it again."""
        if not isinstance(step, (list, tuple)) or len(step) != 2:
            raise invalid("step", step, "a step is [operation, arguments]")
        name, arguments = step
        cls = self.classes.get(name) if isinstance(name, str) else None
        if cls is None:
            raise invalid("operation", name, "no such host operation")
        if not isinstance(arguments, Mapping) or not all(
            isinstance(key, str) for key in arguments
        ):
            raise invalid(name, arguments, "arguments must be a mapping")
        return cls(**arguments)
