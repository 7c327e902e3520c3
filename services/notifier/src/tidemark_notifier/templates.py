"""Message texts from Jinja2 files: `<kind>.txt.j2` (first line `Subject: ...`, then the
plain-text body) and `<kind>.html.j2` (the HTML part). Files in the operator's template
directory replace the built-in ones of the same name, one by one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

KINDS = (
    "acknowledgement",
    "entitlement_expired",
    "staff_reply",
    "resolved",
    "closed",
    "coupon_refused",
    "credentials_destroyed",
    "sla_warning",
    "sla_breached",
    "escalated",
)


class TemplateError(ValueError):
    """A template is missing, or does not start with its `Subject:` line."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, template_dir: Path | None = None) -> None:
        loaders: list[Any] = []
        if template_dir is not None:
            loaders.append(FileSystemLoader(template_dir))
        loaders.append(PackageLoader("tidemark_notifier", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            keep_trailing_newline=True,
            auto_reload=False,  # compiled once (see check); restart to pick up new files
        )

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        head, _, text = self.env.get_template(f"{kind}.txt.j2").render(context).partition("\n")
        if not head.startswith("Subject:"):
            raise TemplateError(f"{kind}.txt.j2 must start with a 'Subject: ...' line")
        subject = " ".join(head[len("Subject:") :].split())
        tag = f"[{context['tid']}]"
        if tag not in subject:  # replies find their ticket by it (SPEC 3.2)
            subject = f"{tag} {subject}"
        html = self.env.get_template(f"{kind}.html.j2").render(context)
        return Rendered(subject, text, html)

    def check(self) -> None:
        """Fail at start-up, not at the first message, when a template does not compile."""
        for kind in KINDS:
            for part in ("txt", "html"):
                self.env.get_template(f"{kind}.{part}.j2")
