"""The sample province's figures as Thái Bình published them: what the tests expect.

The Department of Industry and Trade of Thái Bình reported these figures around mid-2022
(``shared/seed/BRIEF.md``, the Vietnamese text beside it); the sample GeoPackage
``layers/thai_binh.gpkg`` is built to reproduce them, and every channel (``ccn-gis
stats``, ``/stats``, the notebooks, the web map) must show them. They are typed here
once, from the article, and never computed by the code under test.
"""

from __future__ import annotations

# --- industrial clusters (CCN), the plan 2021–2030 -------------------------------------
CLUSTERS = 66
"""Clusters in the 2030 plan."""
PLANNED_HA = 4177.97
"""Total plan area by 2030, hectares."""
ESTABLISHED = 46
"""Clusters established (founding decision issued)."""
ESTABLISHED_HA = 2508.0
DETAILED_PLAN = 44
"""Clusters with an approved detailed plan (1/500)."""
DETAILED_PLAN_HA = 1794.0
OPERATING = 35
"""Clusters in operation."""
OCCUPANCY = 0.413
"""Occupancy of industrial land (leased ÷ industrial), as published: to a tenth of a %."""
OCCUPANCY_RECOVERED = 0.666
"""Occupancy of recovered (acquired, cleared) industrial land."""

# --- investment projects -----------------------------------------------------------------
PROJECTS = 417
PROJECTS_BY_STATUS = {"producing": 309, "under_construction": 48, "not_started": 33,
                      "stopped": 27}
REGISTERED_CAPITAL_BN_VND = 30129.0
IMPLEMENTED_CAPITAL_BN_VND = 21662.0
CAPITAL_REALISATION = 0.719
"""Capital actually invested ÷ registered, to a tenth of a %."""
REGISTERED_WORKERS = 82908
WORKERS = 54752

# --- industrial promotion (khuyến công), ten years of Decree 45/2012 ---------------------
PROMOTION_PARTICIPANTS = {"sewing_training": 15520, "management_training": 3593}
"""People trained, by programme."""
PROMOTION_FACILITIES = {"demo_model": 10, "machinery_support": 520,
                        "rural_product_programme": 7, "cluster_detailed_plan": 7}
"""Models, facilities, products or clusters supported, by programme."""

# --- as the reports print them (Vietnamese number format of the article) ---------------
PLANNED_HA_VI = "4.177,97"
ESTABLISHED_HA_VI = "2.508,00"
"""The established clusters' 2.508 ha (``shared/seed/BRIEF.md``), as the reports print
hectares: to two decimals."""
DETAILED_PLAN_HA_VI = "1.794,00"
"""The 1.794 ha under approved detailed plans (``shared/seed/BRIEF.md``), to two decimals."""
OCCUPANCY_VI = "41,3 %"
OCCUPANCY_RECOVERED_VI = "66,6 %"
