"""The template machinery both pages share: one Jinja environment over `templates/`, where
`_page.html.j2` holds the look and `_macros.html.j2` the table and chart pieces."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from training.report.charts import ACCENT, INK

_TEMPLATES = Environment(
    loader=PackageLoader("training.report", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Numbers reach the template unformatted; `{{ share | number(".0%") }}` takes a Python format spec.
_TEMPLATES.filters["number"] = format


def render(template: str, **context: Any) -> str:
    """One page, with the house colours."""
    return _TEMPLATES.get_template(template).render(ink=INK, accent=ACCENT, **context)
