"""The local stack without Docker: Kafka, Elasticsearch, PostgreSQL and Redis as plain processes."""

from shoplake.stack.manager import Stack
from shoplake.stack.process import StackError

__all__ = ["Stack", "StackError"]
