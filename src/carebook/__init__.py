"""carebook: an embeddable booking core for multi-location clinics.

Build one :class:`Carebook` with :func:`bootstrap` and call its use cases with an
:class:`Actor`. This module is the small face every host needs: the composition root,
actors, ids, time intervals, money, events and the error families. Each feature has a
public module of its own: :mod:`carebook.scheduling`, :mod:`carebook.walkins`,
:mod:`carebook.pricing`, :mod:`carebook.payments`, :mod:`carebook.staffing` and
:mod:`carebook.events`. Adapter authors also use :mod:`carebook.ports`,
:mod:`carebook.hookspecs` and :mod:`carebook.testing`.
"""

from carebook.app import Carebook
from carebook.bootstrap import CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock, SystemClock
from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import Event
from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    SagaId,
    ServiceId,
)
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.errors import (
    AdapterError,
    CarebookError,
    ConfigurationError,
    ConflictError,
    DuplicateAdapterError,
    ForbiddenError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    RuleRejectedError,
    SlotUnavailableError,
    StorageError,
    TransientStorageError,
    UnknownAdapterError,
    ValidationError,
)
from carebook.hookspecs import hookimpl
from carebook.plugins import make_plugin_manager

__all__ = [
    "Actor",
    "ActorKind",
    "AdapterError",
    "AppointmentId",
    "Carebook",
    "CarebookConfig",
    "CarebookError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateAdapterError",
    "Event",
    "ForbiddenError",
    "IdempotencyConflictError",
    "Interval",
    "InvalidTransitionError",
    "LocationId",
    "ManualClock",
    "Money",
    "NotFoundError",
    "OrganisationId",
    "PatientId",
    "PractitionerId",
    "ResourceId",
    "RuleRejectedError",
    "SagaId",
    "ServiceId",
    "SlotUnavailableError",
    "StorageError",
    "SystemClock",
    "TransientStorageError",
    "UnknownAdapterError",
    "ValidationError",
    "bootstrap",
    "hookimpl",
    "make_plugin_manager",
]
