"""Messages from template files: for each kind a subject, a text body, an HTML body and a
short text (SMS, push, the in-app feed), rendered with Jinja2.

HTML is autoescaped (a product named `<script>` shows as text), text is not; a variable the
context lacks is an error (StrictUndefined), never an empty hole in a customer's e-mail. The
environment is built on first use, so importing this module reads no file.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

from shoplake.notifications.contract import Kind

PARTS = ("subject.txt", "txt", "html", "short.txt")
# The link the feed and push show, the first a context has.
LINKS = ("tracking_link", "order_link", "product_link", "login_link")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    short: str
    link: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        return cls(
            subject=str(data["subject"]),
            text=str(data["text"]),
            html=str(data["html"]),
            short=str(data["short"]),
            link=None if data.get("link") is None else str(data["link"]),
        )


def _loader() -> BaseLoader:
    folder = files(__package__) / "templates"
    if isinstance(folder, Path):  # an installed or editable package: plain files
        return FileSystemLoader(folder)
    return PackageLoader(__package__, "templates")  # a zipped package


@functools.cache
def environment() -> Environment:
    return Environment(
        loader=_loader(),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(kind: Kind, context: Mapping[str, Any]) -> Message:
    """The message of `kind` for this context (raises jinja2.UndefinedError on a gap)."""
    env = environment()
    subject = " ".join(env.get_template(f"{kind.value}.subject.txt").render(**context).split())
    full = {**context, "subject": subject}
    text, html, short = (
        env.get_template(f"{kind.value}.{part}").render(**full) for part in PARTS[1:]
    )
    link = next((str(context[key]) for key in LINKS if key in context), None)
    return Message(subject=subject, text=text, html=html, short=" ".join(short.split()), link=link)
