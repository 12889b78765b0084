"""QGIS styles (QML) written into downloaded GeoPackages.

The ``<layer>.qml`` files hold the symbols; the labels of their categories come from the
text catalogue (:mod:`ccn_gis.texts`), filled in by :func:`qml`, in Vietnamese as QGIS
users of the province read them.
"""

from __future__ import annotations

import re
from html import escape
from importlib import resources

from ccn_gis.texts import text

__all__ = ["CATEGORY_TEXTS", "qml"]

CATEGORY_TEXTS: dict[str, str] = {
    "clusters": "cluster_stage",
    "approved_extents": "style.approval",
    "parcels": "lease_status",
}
"""The catalogue group of each categorised style: a category's label is the text
``<group>.<value>``, and ``other`` for the category of any other value."""

_CATEGORY = re.compile(r'(<category value="([^"]*)" symbol="\d+" label=")[^"]*(")')


def qml(layer: str, /) -> str | None:
    """Return the QGIS style of ``layer`` with its category labels, or None without one.

    Examples
    --------
    >>> 'label="Đang hoạt động"' in qml("clusters")
    True
    >>> qml("projects") is None
    True
    """
    resource = resources.files(__name__).joinpath(f"{layer}.qml")
    if not resource.is_file():
        return None
    style = resource.read_text(encoding="utf-8")
    group = CATEGORY_TEXTS.get(layer)
    if group is None:
        return style

    def label(match: re.Match[str]) -> str:
        value = match.group(2)
        key = f"{group}.{value}" if value else "other"
        return f"{match.group(1)}{escape(text(key, 'vi'), quote=True)}{match.group(3)}"

    return _CATEGORY.sub(label, style)
