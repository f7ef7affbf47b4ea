"""The event contract: the CloudEvents envelope, topic names, and one model per event type.

Importing this package registers every event type (see `REGISTRY`): each module of the package
that is not part of the contract's machinery is a domain's module, imported here, so adding
`shoplake/events/<domain>.py` is all it takes to register a domain's events (and so their
topic, their JSON Schemas, bronze's subscription and the load generator's mix).
"""

import importlib
import pkgutil

from shoplake.events.base import REGISTRY, EventData, UnknownEventType, model_for, parse_data
from shoplake.events.envelope import CloudEvent
from shoplake.events.topics import DEADLETTER_TOPIC, topic_for, topic_for_type

# The contract's machinery; every other module here declares one domain's events.
_MACHINERY = frozenset({"base", "compat", "envelope", "topics"})
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _MACHINERY and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

DOMAINS: tuple[str, ...] = tuple(sorted({model.domain for model in REGISTRY.values()}))
DOMAIN_TOPICS: tuple[str, ...] = tuple(topic_for(domain) for domain in DOMAINS)

__all__ = [
    "DEADLETTER_TOPIC",
    "DOMAINS",
    "DOMAIN_TOPICS",
    "REGISTRY",
    "CloudEvent",
    "EventData",
    "UnknownEventType",
    "model_for",
    "parse_data",
    "topic_for",
    "topic_for_type",
]
