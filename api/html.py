"""HTML pages of the OGC API for people who open its links in a browser (``f=html``).

Plain server-side HTML, no script or external stylesheet: it works in closed networks.
Every text and attribute value is escaped here (``html.escape``): the province's name,
the layers' values and the request's own URL (its Host header) are not to be trusted.
The inline stylesheet is allowed by its hash (:data:`STYLE_HASH`) in the
Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from ccn_gis.report import format_number
from ccn_gis.texts import text as label

_STYLE = """
body{font-family:system-ui,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b2631}
header{background:#14532d;color:#fff;padding:.6rem 1.2rem}
header a{color:#fff} main{padding:1rem 1.2rem;max-width:75rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ccd;padding:.2rem .5rem}
th{background:#eef2ee;text-align:left} td.n{text-align:right}
nav.pages a{margin-right:1rem} code{background:#f3f3f3;padding:0 .2rem}
"""

_DIGEST = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
STYLE_HASH = f"'sha256-{_DIGEST}'"
"""The CSP source that allows the inline stylesheet of the pages, and nothing else inline."""


def text(value: Any) -> str:
    """``value`` as escaped HTML text (or attribute value)."""
    return escape(str(value), quote=True)


def link(href: str, label: Any) -> str:
    """An escaped ``<a href>``."""
    return f'<a href="{text(href)}">{text(label)}</a>'


def page(title: str, body: str, *, crumbs: Sequence[tuple[str, str]] = ()) -> str:
    """Return a whole HTML page (Vietnamese) with a breadcrumb header.

    ``title`` and the crumbs are escaped here; ``body`` is HTML, made of this module's
    escaped pieces.
    """
    trail = " › ".join(link(href, label) for label, href in crumbs)
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no request for a /favicon.ico that is not there
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header>ccn-gis · {trail}</header><main><h1>{escape(title)}</h1>{body}</main>"
        "</body></html>"
    )


def cell(value: Any) -> str:
    """Format a value for a table cell: Vietnamese number format, empty for null."""
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{escape(label('yes' if value else 'no'))}</td>"
    if isinstance(value, int):
        return f'<td class="n">{format_number(value, 0)}</td>'
    if isinstance(value, float):
        return f'<td class="n">{format_number(value, 2)}</td>'
    if isinstance(value, (dict, list)):
        return f"<td><code>{escape(str(value))}</code></td>"
    return f"<td>{escape(str(value))}</td>"


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Return an HTML table of ``rows`` with ``columns``."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def links(items: Iterable[Mapping[str, Any]]) -> str:
    """Return a list of links with their relation and media type."""
    rows = "".join(
        f"<li>{link(str(item['href']), item.get('title') or item['rel'])} "
        f"<small>({text(item['rel'])}{', ' + text(item['type']) if item.get('type') else ''})"
        "</small></li>"
        for item in items
    )
    return f"<ul>{rows}</ul>"


def paragraph(value: Any) -> str:
    """An escaped ``<p>``."""
    return f"<p>{text(value)}</p>"


def bullets(values: Iterable[Any]) -> str:
    """An escaped ``<ul>`` of texts."""
    return "<ul>" + "".join(f"<li>{text(v)}</li>" for v in values) + "</ul>"


def properties(props: Mapping[str, Any]) -> str:
    """Return a two-column table of one feature's properties."""
    rows = "".join(f"<tr><th>{escape(k)}</th>{cell(v)}</tr>" for k, v in props.items())
    return f"<table>{rows}</table>"
