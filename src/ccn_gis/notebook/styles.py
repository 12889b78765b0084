"""The colours and Vietnamese labels of the notebooks' maps and charts, and their legends.

The labels are those of the text catalogue, :mod:`ccn_gis.texts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccn_gis.texts import text


@dataclass(frozen=True)
class Style:
    """How one category is drawn: its Vietnamese label and its colour."""

    label: str
    colour: str

    def leaflet(self, *, fill_opacity: float = 0.6, weight: float = 1.0) -> dict[str, Any]:
        """Return the Leaflet path style (``leafmap.Map.add_gdf(style=…)``)."""
        return {"color": self.colour, "weight": weight, "fillColor": self.colour,
                "fillOpacity": fill_opacity}


STAGE_STYLES: dict[str, Style] = {
    "planned": Style(text("notebook.cluster_stage.planned"), "#bdbdbd"),
    "established": Style(text("cluster_stage.established"), "#fdae61"),
    "detailed_plan": Style(text("cluster_stage.detailed_plan"), "#4a90d9"),
    "operating": Style(text("notebook.cluster_stage.operating"), "#1a9850"),
}
"""A cluster's ``stage`` (:data:`ccn_gis.publish.STAGES`, in order) on maps."""

LEASE_STYLES: dict[str, Style] = {
    "leased": Style(text("lease_status.leased"), "#d73027"),
    "vacant": Style(text("notebook.lease_status.vacant"), "#fee08b"),
    "not_for_lease": Style(text("notebook.lease_status.not_for_lease"), "#d9d9d9"),
}
"""A parcel's ``lease_status`` (:data:`ccn_gis.publish.LEASE_STATUSES`) on maps."""

EXTENT_STYLES: dict[str, Style] = {
    "establishment": Style(text("notebook.approval.establishment"), "#fdae61"),
    "detailed_plan": Style(text("notebook.approval.detailed_plan"), "#4a90d9"),
}
"""An approved extent's ``stage``, its approval (:class:`ccn_gis.model.Approval`), on maps."""

OUTLINE = Style(text("collection.admin_units"), "#444444")
"""Administrative units: outlines only."""

SCENARIO_STYLES: dict[str, Style] = {
    "planned": Style(text("notebook.cluster_stage.planned"), "#bdbdbd"),
    "established": Style(text("notebook.scenario_status.established"), "#fdae61"),
    "expanded": Style(text("notebook.scenario_status.expanded"), "#a6611a"),
    "newly_established": Style(text("notebook.scenario_status.newly_established"), "#1a9850"),
    "added": Style(text("notebook.scenario_status.added"), "#7b3294"),
    "removed": Style(text("scenario_change.remove"), "#252525"),
}
"""A cluster's ``status`` at a scenario's horizon (:func:`read_scenario_clusters`) on maps."""

FINDING_STYLES: dict[str, Style] = {
    "error": Style(text("notebook.findings.error"), "#e31a1c"),
    "warning": Style(text("notebook.findings.warning"), "#ff7f00"),
}
"""The outline of a cluster with findings: red for an error, orange for warnings only."""

SCENARIO_COLOURS = ("#4a90d9", "#d73027", "#1a9850", "#984ea3", "#ff7f00", "#a65628")
"""The colours of the scenarios in charts, in the order they are compared."""


def legend(styles: Mapping[str, Style], /) -> dict[str, str]:
    """Return ``{label: colour}``, the ``legend_dict`` of ``leafmap.Map.add_legend``.

    Examples
    --------
    >>> legend(LEASE_STYLES)["Đã cho thuê"]
    '#d73027'
    """
    return {style.label: style.colour for style in styles.values()}
