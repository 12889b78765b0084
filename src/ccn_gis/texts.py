"""The catalogue of every label ccn-gis shows, in Vietnamese and English.

Each text has a stable key and one string per language; the reports, the published
layers, the QGIS styles and the web map (which reads it from ``GET /texts``) all take
their labels from here, so a label is changed once. Messages (validation problems, rule
findings, errors) are not labels: they stay with the code that finds them.

Keys are grouped by concept, the group before the first dot:

- a closed vocabulary's values under the vocabulary's name (``cluster_stage.operating``,
  ``approval.detailed_plan``, ``lease_status.vacant``, ``land_use.green``, …);
- ``collection.`` the published layers' titles, ``field.`` the names of fields,
  ``figure.`` the figures of a scope, ``column.`` table headers, ``short_header.`` the
  short headers of the per-unit tables;
- ``map.``, ``report.``, ``scenario_report.`` and ``notebook.`` the texts only one of
  those interfaces shows.

Two vocabularies were both called "stage"; they keep their field names in every output
and have two names here. A cluster's **stage** (:class:`ccn_gis.model.ClusterStage`:
planned, established, detailed plan, operating) is computed, the ``stage`` attribute of
the published ``clusters``. An approved extent's **approval**
(:class:`ccn_gis.model.Approval`: establishment, detailed plan) is stored, the ``stage``
field of ``approved_extents``: which decision approved the extent. Both, like every
vocabulary of the layers' fields and attributes, live in :mod:`ccn_gis.model`.

Texts may hold ``{name}`` placeholders, filled by :func:`text` (``str.format``) and by the
web map.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from ccn_gis.errors import CcnGisError, UnknownValueError
from ccn_gis.language import LANGS, Lang

__all__ = ["CATALOGUE", "Text", "UnknownTextError", "text", "texts"]


class Text(NamedTuple):
    """One label in the two languages."""

    vi: str
    en: str


class UnknownTextError(CcnGisError, KeyError):
    """A key that the catalogue lacks; the message names the closest keys."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0]) if self.args else ""


_TEXTS: dict[str, tuple[str, str]] = {
    # the title of the province's pages, reports and map
    "title": ("Cụm công nghiệp {province}", "Industrial clusters of {province}"),
    "whole_province": ("Toàn tỉnh", "Whole province"),
    "other": ("Khác", "Other"),
    "yes": ("có", "yes"),
    "no": ("không", "no"),
    "lang.vi": ("Tiếng Việt", "Tiếng Việt"),
    "lang.en": ("English", "English"),
    # the published layers (ccn_gis.publish.COLLECTIONS)
    "collection.admin_units": ("Đơn vị hành chính", "Administrative units"),
    "collection.clusters": ("Cụm công nghiệp", "Industrial clusters"),
    "collection.approved_extents": ("Phạm vi được phê duyệt", "Approved extents"),
    "collection.parcels": ("Lô đất", "Land parcels"),
    "collection.promotion_activities": ("Hoạt động khuyến công",
                                        "Industrial promotion activities"),
    "collection.projects": ("Dự án đầu tư", "Investment projects"),
    # a cluster's stage (ccn_gis.model.ClusterStage), computed
    "cluster_stage.planned": ("Quy hoạch", "Planned"),
    "cluster_stage.established": ("Đã thành lập", "Established"),
    "cluster_stage.detailed_plan": ("Đã quy hoạch chi tiết", "Detailed plan"),
    "cluster_stage.operating": ("Đang hoạt động", "Operating"),
    # an approved extent's approval (ccn_gis.model.Approval, the field `stage`), stored
    "approval.establishment": ("Quyết định thành lập / mở rộng", "Establishment / expansion"),
    "approval.detailed_plan": ("Quy hoạch chi tiết 1/500", "Detailed plan 1/500"),
    # a parcel's lease status (ccn_gis.model.LeaseStatus)
    "lease_status.leased": ("Đã cho thuê", "Leased"),
    "lease_status.vacant": ("Còn trống", "Vacant"),
    "lease_status.not_for_lease": ("Không cho thuê", "Not for lease"),
    # a parcel's land use (ccn_gis.model.LandUse)
    "land_use.industrial": ("Đất công nghiệp", "Industrial"),
    "land_use.services": ("Đất dịch vụ", "Services"),
    "land_use.infrastructure": ("Đất hạ tầng kỹ thuật", "Infrastructure"),
    "land_use.traffic": ("Đất giao thông", "Traffic"),
    "land_use.green": ("Đất cây xanh", "Green"),
    "land_use.water": ("Mặt nước", "Water"),
    # a project's status (ccn_gis.model.ProjectStatus); tables indent them under "projects"
    "project_status.producing": ("đi vào sản xuất", "producing"),
    "project_status.under_construction": ("đang xây dựng", "under construction"),
    "project_status.not_started": ("chưa xây dựng", "not yet built"),
    "project_status.stopped": ("ngừng hoạt động", "stopped"),
    # an industrial promotion programme (ccn_gis.model.Programme)
    "programme.sewing_training": ("Đào tạo nghề may công nghiệp", "Industrial sewing training"),
    "programme.management_training": ("Đào tạo quản lý, khởi sự doanh nghiệp",
                                      "Management / start-up training"),
    "programme.demo_model": ("Mô hình trình diễn kỹ thuật", "Technical demonstration models"),
    "programme.machinery_support": ("Hỗ trợ máy móc, chuyển giao công nghệ",
                                    "Machinery and technology support"),
    "programme.rural_product_programme": ("Sản phẩm công nghiệp nông thôn tiêu biểu",
                                          "Typical rural industrial products"),
    "programme.cluster_detailed_plan": ("Hỗ trợ lập quy hoạch chi tiết CCN",
                                        "Cluster detailed plans funded"),
    # a change of a 2030 scenario (ccn_gis.scenario.ChangeKind), and none
    "scenario_change.establish": ("Thành lập", "Established"),
    "scenario_change.expand": ("Mở rộng", "Expanded"),
    "scenario_change.add": ("Cụm mới", "New cluster"),
    "scenario_change.remove": ("Đưa ra khỏi quy hoạch", "Removed from the plan"),
    "scenario_change.none": ("Giữ nguyên", "Unchanged"),
    # how the web map draws a scenario's cluster
    "scenario_class.changed": ("Cụm thay đổi", "Changed cluster"),
    "scenario_class.error": ("Thay đổi vi phạm quy định", "Change breaking a rule"),
    "scenario_class.warning": ("Thay đổi có cảnh báo", "Change with a warning"),
    "scenario_class.flagged": ("Cụm giữ nguyên có phát hiện", "Unchanged cluster with a finding"),
    "scenario_class.unchanged": ("Cụm giữ nguyên", "Unchanged cluster"),
    "scenario_class.removed": ("Cụm đưa ra khỏi quy hoạch", "Removed from the plan"),
    # a finding's severity (ccn_gis.rules.Severity) and rule (ccn_gis.rules.Rule)
    "severity.error": ("Lỗi", "Error"),
    "severity.warning": ("Cảnh báo", "Warning"),
    "rule.AREA_MAX": ("Diện tích tối đa", "Maximum area"),
    "rule.AREA_MIN": ("Diện tích tối thiểu", "Minimum area"),
    "rule.NEW_CLUSTER_GATE": ("Điều kiện thành lập cụm mới", "Condition for a new cluster"),
    "rule.EXPANSION_GATE": ("Điều kiện mở rộng cụm", "Condition for an expansion"),
    "rule.SERVICES_SHARE": ("Tỷ lệ đất dịch vụ", "Share of services land"),
    "rule.OVERLAP": ("Chồng lấn ranh giới", "Overlapping boundaries"),
    "rule.OUTSIDE_PROVINCE": ("Nằm ngoài địa giới", "Outside the boundary"),
    "rule.PLAN_TOTAL": ("Tổng diện tích quy hoạch", "Total planned area"),
    "rule.PROTECTED_LAND": ("Đất cần bảo vệ", "Protected land"),
    # the figures of a scope (province, unit, cluster)
    "figure.planned": ("CCN trong quy hoạch", "Clusters in the plan"),
    "figure.established": ("CCN đã thành lập", "Clusters established"),
    "figure.detailed_plan": ("CCN đã quy hoạch chi tiết", "Clusters with a detailed plan"),
    "figure.operating": ("CCN đã đi vào hoạt động", "Clusters in operation"),
    "figure.industrial_ha": ("Đất công nghiệp", "Industrial land"),
    "figure.leased_ha": ("Đất công nghiệp đã cho thuê", "Industrial land leased"),
    "figure.occupancy": ("Tỷ lệ lấp đầy đất công nghiệp", "Occupancy of industrial land"),
    "figure.recovered_industrial_ha": ("Đất công nghiệp đã thu hồi", "Recovered industrial land"),
    "figure.occupancy_recovered": ("Tỷ lệ lấp đầy đất thu hồi", "Occupancy of recovered land"),
    "figure.projects": ("Dự án đầu tư", "Investment projects"),
    "figure.registered_capital_bn_vnd": ("Vốn đăng ký (tỷ đồng)", "Registered capital (bn VND)"),
    "figure.implemented_capital_bn_vnd": ("Vốn thực hiện (tỷ đồng)", "Capital invested (bn VND)"),
    "figure.capital_realisation": ("Tỷ lệ vốn thực hiện", "Capital realisation"),
    "figure.registered_workers": ("Lao động đăng ký", "Registered workforce"),
    "figure.workers": ("Lao động đang sử dụng", "Workers employed"),
    # fields of the layers, as popups and tables name them
    "field.cluster_id": ("Mã cụm", "Cluster id"),
    "field.unit": ("Đơn vị", "Unit"),
    "field.cluster_stage": ("Giai đoạn", "Stage"),
    "field.approval": ("Giai đoạn", "Stage"),
    "field.area_ha": ("Diện tích quy hoạch", "Planned area"),
    "field.established_ha": ("Diện tích đã thành lập", "Established area"),
    "field.detailed_plan_ha": ("Diện tích quy hoạch chi tiết", "Detailed-plan area"),
    "field.leased_ha": ("Đã cho thuê", "Leased"),
    "field.occupancy": ("Tỷ lệ lấp đầy", "Occupancy"),
    "field.projects": ("Số dự án", "Projects"),
    "field.investor": ("Chủ đầu tư hạ tầng", "Infrastructure investor"),
    "field.land_use": ("Loại đất", "Land use"),
    "field.lease_status": ("Tình trạng cho thuê", "Lease status"),
    "field.status": ("Tình trạng", "Status"),
    "field.project_id": ("Dự án", "Project"),
    "field.leased_on": ("Ngày thuê", "Leased on"),
    "field.decided_on": ("Ngày quyết định", "Decided on"),
    "field.code": ("Mã", "Code"),
    "field.level": ("Cấp", "Level"),
    # table headers
    "column.figure": ("Chỉ tiêu", "Figure"),
    "column.count": ("Số lượng", "Count"),
    "column.area": ("Diện tích (ha)", "Area (ha)"),
    "column.value": ("Giá trị", "Value"),
    "column.name": ("Tên", "Name"),
    "column.clusters": ("CCN", "Clusters"),
    "column.cluster": ("Cụm", "Cluster"),
    "column.occupancy": ("Lấp đầy", "Occupancy"),
    "column.rule": ("Quy định", "Rule"),
    "column.year": ("Năm", "Year"),
    "column.message": ("Nội dung", "Finding"),
    "column.change": ("Thay đổi", "Change"),
    "column.zone": ("Vùng", "Zone"),
    "column.landuse_class": ("Loại đất", "Land-use class"),
    "column.share": ("Tỷ lệ", "Share"),
    "column.total": ("Tổng", "Total"),
    "column.promotion": ("Khuyến công", "Industrial promotion"),
    "column.participants": ("Người tham gia", "Participants"),
    "column.facilities": ("Cơ sở / mô hình", "Facilities / models"),
    "short_header.planned_ha": ("QH (ha)", "Plan (ha)"),
    "short_header.established": ("TL", "Est."),
    "short_header.established_ha": ("TL (ha)", "Est. (ha)"),
    "short_header.detailed_plan": ("QHCT", "Det."),
    "short_header.detailed_plan_ha": ("QHCT (ha)", "Det. (ha)"),
    "short_header.operating": ("HĐ", "Oper."),
    "short_header.industrial_ha": ("Đất CN (ha)", "Ind. (ha)"),
    "short_header.leased_ha": ("Đã thuê (ha)", "Leased (ha)"),
    "short_header.occupancy": ("Lấp đầy", "Occup."),
    "short_header.projects": ("Dự án", "Projects"),
    # land use under the zones
    "landuse.uncovered": ("(không có dữ liệu)", "(no land-use data)"),
    "findings": ("Phát hiện", "Findings"),
    # the web map
    "map.as_of": ("Số liệu đến ngày", "As of"),
    "map.account": ("Cập nhật sổ cụm", "Editing the register"),
    "map.user_name": ("Tên đăng nhập", "User name"),
    "map.password": ("Mật khẩu", "Password"),
    "map.sign_in": ("Đăng nhập", "Sign in"),
    "map.sign_out": ("Đăng xuất", "Sign out"),
    "map.signed_in": ("Đã đăng nhập: {name} ({role})", "Signed in: {name} ({role})"),
    "map.sign_in_failed": ("Sai tên đăng nhập hoặc mật khẩu", "Wrong user name or password"),
    "map.record_lease": ("Ghi nhận thuê đất", "Record the lease"),
    "map.lease_project": ("Dự án thuê", "Project"),
    "map.note": ("Ghi chú (số hợp đồng, quyết định)", "Note (contract, decision)"),
    "map.lease_recorded": ("Đã ghi nhận.", "Recorded."),
    "map.changed_meanwhile": ("Lô này vừa được người khác sửa; hãy mở lại và thử lại.",
                              "Someone changed this parcel meanwhile; open it again and "
                              "retry."),
    "map.not_recorded": ("Không ghi được:", "Not recorded:"),
    "map.stale": ("Tệp dữ liệu vừa được sửa nhưng có lỗi, nên bản đồ vẫn hiện phiên bản hợp "
                  "lệ trước đó. Cần sửa:",
                  "The data file was changed but has errors, so the map still shows the last "
                  "valid version. To fix:"),
    "map.all_records": ("Toàn bộ dữ liệu", "All records"),
    "map.layers": ("Lớp bản đồ", "Map layers"),
    "map.clusters_by_stage": ("Cụm công nghiệp (theo giai đoạn)",
                              "Industrial clusters (by stage)"),
    "map.colour_by": ("Tô màu theo", "Colour by"),
    "map.landuse": ("Hiện trạng sử dụng đất", "Land use"),
    "map.landuse_of": ("Sử dụng đất trong cụm", "Land use in the cluster"),
    "map.basemap": ("Bản đồ nền OpenStreetMap (cần internet)",
                    "OpenStreetMap basemap (needs internet)"),
    "map.downloads": ("Tải dữ liệu", "Downloads"),
    "map.download_layer": ("Lớp", "Layer"),
    "map.province_figures": ("Số liệu toàn tỉnh", "Province figures"),
    "map.unit_figures": ("Theo đơn vị hành chính", "By administrative unit"),
    "map.cluster_figures": ("Số liệu cụm công nghiệp", "Cluster figures"),
    "map.ha": ("ha", "ha"),
    "map.scenarios": ("Kịch bản 2030", "2030 scenarios"),
    "map.scenario": ("Kịch bản", "Scenario"),
    "map.no_scenario": ("— Không hiển thị —", "— None —"),
    "map.computing": ("Đang tính…", "Computing…"),
    "map.changes_n": ("thay đổi", "changes"),
    "map.errors_n": ("lỗi", "errors"),
    "map.warnings_n": ("cảnh báo", "warnings"),
    "map.no_findings": ("Không vi phạm quy định nào.", "No rule is broken."),
    "map.rice_converted": ("Đất lúa chuyển mục đích đến", "Rice land converted by"),
    "map.gate_opens": ("Năm đơn vị được thành lập cụm mới",
                       "Year each unit may open a new cluster"),
    "not_by": ("chưa đến {horizon}", "not by {horizon}"),
    # the text reports (ccn_gis.report)
    "report.as_of": ("số liệu đến ngày {date}", "as of {date}"),
    "report.all_records": ("toàn bộ dữ liệu", "all records"),
    "report.projects": ("Dự án đăng ký đầu tư", "Investment projects"),
    "report.implemented_capital": ("Vốn đầu tư thực hiện (tỷ đồng)", "Capital invested (bn VND)"),
    "report.registered_workers": ("Lao động đăng ký (người)", "Registered workforce"),
    "report.workers": ("Lao động đang sử dụng (người)", "Workers employed"),
    "report.problems_none": ("Không có lỗi.", "No problems found."),
    "report.problems_summary": ("{errors} lỗi, {warnings} cảnh báo trong {source}",
                                "{errors} error(s), {warnings} warning(s) in {source}"),
    # the scenario reports (ccn_gis.scenario_report)
    "scenario_report.title": ("Kịch bản: {name} (năm gốc {base}, đến năm {horizon})",
                              "Scenario: {name} (base year {base}, horizon {horizon})"),
    "scenario_report.findings": ("Phát hiện ({n})", "Findings ({n})"),
    "scenario_report.none": ("Không có phát hiện nào: kịch bản đáp ứng các quy định.",
                             "No findings: the scenario meets the rules."),
    "scenario_report.gate": ("Năm đơn vị đủ điều kiện thành lập cụm mới",
                             "Year each unit may establish a new cluster"),
    "scenario_report.earliest": ("Năm sớm nhất được thành lập (cụm đang quy hoạch)",
                                 "Earliest legal establishment (planned clusters)"),
    "scenario_report.rice": ("Đất trồng lúa chuyển sang cụm công nghiệp đến {horizon}",
                             "Rice land converted to clusters by {horizon}"),
    "scenario_report.supply": ("Cung – cầu đất công nghiệp đến {horizon} (ha)",
                               "Industrial land supply and demand to {horizon} (ha)"),
    "scenario_report.scenario_year": ("Năm trong kịch bản", "Scenario year"),
    "scenario_report.demand": ("Cầu", "Demand"),
    "scenario_report.supply_col": ("Cung", "Supply"),
    "scenario_report.balance": ("Chênh lệch", "Balance"),
    "scenario_report.province": ("Toàn tỉnh", "Province"),
    "scenario_report.not_measured": ("không đo được (không có bản đồ sử dụng đất)",
                                     "not measured (no land-use map)"),
    "scenario_report.errors": ("Lỗi", "Errors"),
    "scenario_report.warnings": ("Cảnh báo", "Warnings"),
    "scenario_report.plan_ha": ("Diện tích quy hoạch đến {horizon} (ha)",
                                "Plan area by {horizon} (ha)"),
    "scenario_report.established": ("CCN đã thành lập đến {horizon}",
                                    "Clusters established by {horizon}"),
    "scenario_report.occupancy": ("Tỷ lệ lấp đầy năm {horizon}", "Occupancy in {horizon}"),
    "scenario_report.rice_short": ("Đất lúa chuyển đổi (ha)", "Rice land converted (ha)"),
    "scenario_report.balance_short": ("Cung trừ cầu đất CN (ha)",
                                      "Industrial land supply minus demand (ha)"),
    # the QGIS styles' categories (ccn_gis.styles), where they differ from the map's
    "style.approval.establishment": ("Quyết định thành lập, mở rộng",
                                     "Establishment or expansion decision"),
    "style.approval.detailed_plan": ("Quy hoạch chi tiết 1/500 được duyệt",
                                     "Approved 1/500 detailed plan"),
    # the notebooks' maps and tables (ccn_gis.notebook), where they differ from the above
    "notebook.cluster_stage.planned": ("Trong quy hoạch, chưa thành lập",
                                       "In the plan, not established"),
    "notebook.cluster_stage.operating": ("Đã đi vào hoạt động", "In operation"),
    "notebook.lease_status.vacant": ("Đất công nghiệp còn trống", "Vacant industrial land"),
    "notebook.lease_status.not_for_lease": ("Không cho thuê (hạ tầng, cây xanh, mặt nước…)",
                                            "Not for lease (infrastructure, green, water…)"),
    "notebook.approval.establishment": ("Thành lập", "Establishment"),
    "notebook.approval.detailed_plan": ("Quy hoạch chi tiết", "Detailed plan"),
    "notebook.project.project_id": ("Mã dự án", "Project id"),
    "notebook.project.name": ("Tên dự án", "Project name"),
    "notebook.project.investor": ("Nhà đầu tư", "Investor"),
    "notebook.project.sector": ("Ngành nghề", "Sector"),
    "notebook.project.registered_on": ("Ngày đăng ký", "Registered on"),
    "notebook.project.workers": ("Lao động", "Workers"),
    "notebook.landuse_layer": ("Sử dụng đất hiện trạng", "Current land use"),
    "notebook.landuse.now": ("Hiện trạng", "Now"),
    "notebook.landuse.plan": ("Quy hoạch", "Plan"),
    "notebook.scenario_status": ("Trạng thái", "Status"),
    "notebook.scenario_status.established": ("Đã thành lập từ trước", "Established before"),
    "notebook.scenario_status.expanded": ("Mở rộng trong kịch bản", "Expanded in the scenario"),
    "notebook.scenario_status.newly_established": ("Thành lập trong kịch bản",
                                                   "Established in the scenario"),
    "notebook.scenario_status.added": ("Cụm mới bổ sung vào quy hoạch",
                                       "New cluster added to the plan"),
    "notebook.findings.error": ("Có lỗi (vi phạm quy định)", "With an error (a rule broken)"),
    "notebook.findings.warning": ("Chỉ có cảnh báo", "Warnings only"),
    "notebook.finding.rule": ("Quy tắc", "Rule"),
    "notebook.finding.rule_name": ("Tên quy tắc", "Rule name"),
    "notebook.finding.severity": ("Mức độ", "Severity"),
    "notebook.finding.limit": ("Ngưỡng", "Limit"),
    "notebook.finding.basis": ("Căn cứ", "Basis"),
}

CATALOGUE: Mapping[str, Text] = MappingProxyType(
    {key: Text(vi, en) for key, (vi, en) in _TEXTS.items()})
"""Every label by key, in catalogue order (read only)."""


def text(key: str, lang: Lang = "vi", /, **values: object) -> str:
    """Return the label ``key`` in ``lang``, its placeholders filled with ``values``.

    Raises
    ------
    UnknownTextError
        When the catalogue has no ``key``; the message names the closest keys.
    UnknownValueError
        When ``lang`` is not one of :data:`ccn_gis.language.LANGS`.

    Examples
    --------
    >>> text("cluster_stage.operating")
    'Đang hoạt động'
    >>> text("title", "en", province="Thái Bình")
    'Industrial clusters of Thái Bình'
    """
    _check(lang)
    try:
        entry = CATALOGUE[key]
    except KeyError:
        close = difflib.get_close_matches(key, CATALOGUE, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownTextError(f"no text {key!r} in the catalogue{hint}") from None
    label = entry.vi if lang == "vi" else entry.en
    return label.format(**values) if values else label


def texts(lang: Lang, /) -> dict[str, str]:
    """Return every label in ``lang`` by key, placeholders unfilled.

    Examples
    --------
    >>> texts("en")["lease_status.vacant"]
    'Vacant'
    """
    _check(lang)
    return {key: entry.vi if lang == "vi" else entry.en for key, entry in CATALOGUE.items()}


def _check(lang: str) -> None:
    if lang not in LANGS:
        raise UnknownValueError(
            f"{lang!r} is not a valid language; valid values: {', '.join(LANGS)}")
