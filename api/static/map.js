/* ccn-gis web map: the province's clusters, extents and parcels with their figures.
 * Everything comes from the app's own API (OGC API – Features, /stats); no internet needed. */
"use strict";

/* The labels by language and key: the app's text catalogue (GET /texts, ccn_gis.texts),
 * read once when the map starts. Keys are grouped by concept: `cluster_stage.operating` is a
 * cluster's stage (computed), `approval.detailed_plan` the decision an approved extent
 * carries (its stored field `stage`), `field.*` popup fields, `figure.*` the figures. */
const TEXTS = { vi: {}, en: {} };

const COLOURS = {
  clusterStage: { planned: "#c7c7c7", established: "#fdae61", detailed_plan: "#2c7bb6", operating: "#1a9641" },
  lease_status: { leased: "#d7191c", vacant: "#1a9641", not_for_lease: "#bdbdbd" },
  land_use: { industrial: "#9e6bd6", services: "#f4a582", infrastructure: "#878787",
              traffic: "#4d4d4d", green: "#66bd63", water: "#4393c3" },
  approval: { establishment: "#e66101", detailed_plan: "#5e3c99" },
  scenario: { changed: "#6a3d9a", error: "#d7191c", warning: "#f57f17", flagged: "#d7191c",
              unchanged: "#1b2631", removed: "#757575" },
};
const LAYER_ORDER = ["admin_units", "approved_extents", "clusters", "parcels"];
const PARCEL_ZOOM = 13; /* parcels are drawn from this zoom on: below it they hide the clusters */
const ID_FIELDS = { admin_units: "code", clusters: "cluster_id", approved_extents: "extent_id", parcels: "parcel_id" };
/* A layer with more features than this is drawn from vector tiles (the server's
 * map_tiles_above setting, written into the page); smaller ones are loaded whole as GeoJSON. */
const TILES_ABOVE = (() => {
  const value = Number.parseInt(document.body.dataset.tilesAbove, 10);
  return Number.isFinite(value) ? value : 20000;
})();

/* Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed: mark the
 * event stopped, as Leaflet 1.9 itself does, so that the map does not handle it twice. */
if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = (e) => { e._stopped = true; };

const state = {
  lang: "vi", asOf: "", parcelColour: "lease_status", unit: "", cluster: null,
  data: {}, collections: {}, stats: null, units: [], clusterStats: {}, layers: {}, health: null, auth: null,
  tiled: {}, /* layers drawn from vector tiles: name → the style inputs they were drawn with */
  landuseClasses: [], clusterLanduse: {},
  /* the 2030 scenario shown: its check (findings, answers) and its clusters at the horizon */
  scenario: { list: [], id: "", loaded: "", result: null, data: null, layer: null, focus: null, error: "" },
};

/* Numbers as the reader writes them: 4.177,97 in Vietnamese, 4,177.97 in English. */
function fmt(value, decimals = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole, fraction] = fixed.split(".");
  const group = state.lang === "vi" ? "." : ",";
  const point = state.lang === "vi" ? "," : ".";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return (value < 0 ? "-" : "") + grouped + (fraction ? point + fraction : "");
}
function pct(value) { return value === null || value === undefined ? "–" : `${fmt(value * 100, 1)} %`; }
function ha(value) { return `${fmt(value)} ${t("map.ha")}`; }
/* The label `key` in the language shown, its {placeholders} filled from `values`. */
function t(key, values) {
  const text = TEXTS[state.lang][key] ?? key;
  return values ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole)) : text;
}
function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function date(text) {
  if (!text) return "";
  if (state.lang !== "vi") return text;
  const [y, m, d] = text.split("-");
  return `${d}/${m}/${y}`;
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/* Every feature of a collection, following the `next` links. */
async function readCollection(name) {
  let url = `/collections/${name}/items?limit=10000`;
  const features = [];
  while (url) {
    const page = await getJSON(url);
    features.push(...page.features);
    const next = (page.links || []).find((link) => link.rel === "next");
    url = next ? next.href : null;
  }
  return { type: "FeatureCollection", features };
}

async function loadStats() {
  const asOf = state.asOf ? `&as_of=${state.asOf}` : "";
  const [province, units, clusters] = await Promise.all([
    getJSON(`/stats?by=province${asOf}`), getJSON(`/stats?by=admin${asOf}`),
    getJSON(`/stats?by=cluster${asOf}`),
  ]);
  state.stats = province;
  state.units = units;
  state.clusterStats = Object.fromEntries(clusters.map((c) => [c.cluster_id, c]));
}

/* What the as-of date changes: a cluster's stage (ClusterStage), a parcel's existence and lease. */
function clusterStage(id) {
  const c = state.clusterStats[id];
  if (!c) return "planned";
  if (c.operating.count) return "operating";
  if (c.detailed_plan.count) return "detailed_plan";
  if (c.established.count) return "established";
  return "planned";
}
function parcelVisible(p) {
  const c = state.clusterStats[p.cluster_id];
  return !!c && c.detailed_plan.count > 0;
}
function leaseStatus(p) {
  if (p.land_use !== "industrial") return "not_for_lease";
  const leased = p.project_id && (!state.asOf || !p.leased_on || p.leased_on <= state.asOf);
  return leased ? "leased" : "vacant";
}
function extentVisible(p) { return !state.asOf || p.decided_on <= state.asOf; }

/* Units shown: those valid on the as-of date; without one, the plan's units and their parents. */
function unitVisible(props) {
  if (state.asOf) {
    return (!props.valid_from || props.valid_from <= state.asOf)
      && (!props.valid_to || props.valid_to >= state.asOf);
  }
  const planned = new Set(state.data.clusters
    ? state.data.clusters.features.map((f) => f.properties.admin_code)
    : Object.values(state.clusterStats).map((c) => c.admin_code));
  if (!state.data.admin_units) return true; /* tiled units: their parents are not known here */
  const parents = new Set(state.data.admin_units.features
    .filter((f) => planned.has(f.properties.code)).map((f) => f.properties.parent_code));
  return planned.has(props.code) || parents.has(props.code);
}

function style(name, props) {
  if (name === "admin_units") {
    const selected = state.unit && props.code === state.unit;
    const visible = unitVisible(props);
    return { className: "ccn-admin_units", color: selected ? "#b8860b" : "#555", weight: selected ? 3 : 1,
             dashArray: "4 3", opacity: visible ? 1 : 0, fillOpacity: selected && visible ? 0.08 : 0,
             fillColor: "#ffd54f" };
  }
  if (name === "clusters") {
    const stage = clusterStage(props.cluster_id);
    const selected = state.cluster === props.cluster_id;
    return { className: "ccn-clusters", color: selected ? "#000" : COLOURS.clusterStage[stage],
             weight: selected ? 3 : 2, fillColor: COLOURS.clusterStage[stage], fillOpacity: 0.6 };
  }
  if (name === "approved_extents") {
    const colour = COLOURS.approval[props.stage] || "#777"; /* an extent's `stage` is its approval */
    const hidden = !extentVisible(props);
    return { className: "ccn-approved_extents", color: colour, weight: 2, fill: false,
             dashArray: props.stage === "establishment" ? "6 4" : null, opacity: hidden ? 0 : 1 };
  }
  const visible = parcelVisible(props) && map.getZoom() >= PARCEL_ZOOM;
  const key = state.parcelColour === "land_use" ? props.land_use : leaseStatus(props);
  const colours = COLOURS[state.parcelColour];
  return { className: "ccn-parcels", color: "#444", weight: 0.5, opacity: visible ? 1 : 0,
           fillOpacity: visible ? 0.75 : 0, fillColor: colours[key] || "#999" };
}

function row(label, value) { return `<tr><td>${esc(label)}</td><td class="n">${value}</td></tr>`; }

function popup(name, props) {
  if (name === "clusters") {
    const c = state.clusterStats[props.cluster_id];
    const unit = state.units.find((u) => u.admin_code === props.admin_code);
    const industrial = c ? c.industrial_ha : props.industrial_ha;
    return `<div class="popup"><h3>${esc(props.name)}</h3><table>
      ${row(t("field.cluster_id"), esc(props.cluster_id))}
      ${row(t("field.unit"), esc(unit ? unit.name : props.admin_code))}
      ${row(t("field.cluster_stage"), esc(t(`cluster_stage.${clusterStage(props.cluster_id)}`)))}
      ${row(t("field.area_ha"), ha(props.area_ha))}
      ${row(t("field.established_ha"), ha(c ? c.established.area_ha : props.established_ha))}
      ${row(t("field.detailed_plan_ha"), ha(c ? c.detailed_plan.area_ha : props.detailed_plan_ha))}
      ${row(t("figure.industrial_ha"), ha(industrial))}
      ${row(t("field.leased_ha"), ha(c ? c.leased_ha : props.leased_ha))}
      ${row(t("field.occupancy"), pct(c ? c.occupancy : props.occupancy))}
      ${row(t("field.projects"), fmt(c ? c.projects.count : props.projects, 0))}
      ${props.investor ? row(t("field.investor"), esc(props.investor)) : ""}
    </table></div>`;
  }
  if (name === "parcels") {
    return `<div class="popup"><h3>${esc(props.parcel_id)}</h3><table>
      ${row(t("field.cluster_id"), esc(props.cluster_id))}
      ${row(t("field.land_use"), esc(t(`land_use.${props.land_use}`)))}
      ${row(t("field.status"), esc(t(`lease_status.${leaseStatus(props)}`)))}
      ${row(t("field.area_ha"), ha(props.area_ha))}
      ${props.project_id ? row(t("field.project_id"), esc(props.project_id)) : ""}
      ${props.leased_on ? row(t("field.leased_on"), esc(date(props.leased_on))) : ""}
    </table>${canEdit() && leaseStatus(props) === "vacant" ? leaseForm(props) : ""}${
      state.recorded === props.parcel_id ? `<p class="message done">${esc(t("map.lease_recorded"))}</p>` : ""}</div>`;
  }
  if (name === "approved_extents") {
    return `<div class="popup"><h3>${esc(props.decision || props.extent_id)}</h3><table>
      ${row(t("field.cluster_id"), esc(props.cluster_id))}
      ${row(t("field.approval"), esc(t(props.stage === "detailed_plan" ? "approval.detailed_plan" : "approval.establishment")))}
      ${row(t("field.decided_on"), esc(date(props.decided_on)))}
      ${row(t("field.area_ha"), ha(props.area_ha))}
    </table></div>`;
  }
  return `<div class="popup"><h3>${esc(props.name)}</h3><table>
    ${row(t("field.code"), esc(props.code))}${row(t("field.level"), esc(props.level))}${row(t("field.area_ha"), ha(props.area_ha))}
  </table></div>`;
}

function buildLayer(name) {
  const layer = L.geoJSON(state.data[name], {
    style: (feature) => style(name, feature.properties),
    onEachFeature: (feature, path) => {
      path.bindPopup(() => popup(name, feature.properties), { maxWidth: 360 });
      path.on("click", () => {
        if (name === "clusters" || name === "parcels") selectCluster(feature.properties.cluster_id);
        if (name === "admin_units") selectUnit(feature.properties.code);
      });
    },
  });
  state.layers[name] = layer;
  return layer;
}

/* A big layer from the server's Mapbox vector tiles (Leaflet.VectorGrid, SVG per tile):
 * same colours as the GeoJSON layers; a click fetches the feature for its popup. */
function buildTiledLayer(name, tileset) {
  const template = tileset.links.find((link) => link.rel === "item").href
    .replace("{tileMatrix}", "{z}").replace("{tileRow}", "{y}").replace("{tileCol}", "{x}");
  const tiledFrom = Number(tileset.layers[0].minTileMatrix);
  const idField = ID_FIELDS[name];
  const layer = L.vectorGrid.protobuf(template, {
    pane: "ccnTiles", interactive: true, maxZoom: 22, zIndex: LAYER_ORDER.indexOf(name),
    minZoom: Math.max(tiledFrom, name === "parcels" ? PARCEL_ZOOM : 0),
    vectorTileLayerStyles: { [name]: (props) => tiledStyle(name, props) },
    getFeatureId: (feature) => feature.properties[idField],
  });
  layer.on("click", async (e) => {
    const id = e.layer.properties[idField];
    const feature = await getJSON(`/collections/${name}/items/${encodeURIComponent(id)}`);
    L.popup({ maxWidth: 360 }).setLatLng(e.latlng).setContent(popup(name, feature.properties)).openOn(map);
    if (name === "clusters" || name === "parcels") selectCluster(feature.properties.cluster_id);
    if (name === "admin_units") selectUnit(feature.properties.code);
  });
  state.layers[name] = layer;
  state.tiled[name] = styleInputs(name);
  return layer;
}

function tiledStyle(name, props) {
  const s = style(name, props);
  return { ...s, fill: s.fill !== false, className: `${s.className} ccn-tiled` };
}

/* What a layer's colours depend on: a tiled layer is redrawn only when these change. */
function styleInputs(name) {
  return JSON.stringify({ admin_units: [state.asOf, state.unit], clusters: [state.asOf, state.cluster],
    approved_extents: [state.asOf], parcels: [state.asOf, state.parcelColour] }[name] || []);
}

function restyle() {
  for (const [name, layer] of Object.entries(state.layers)) {
    if (name === "landuse") continue;
    if (!state.tiled[name]) {
      layer.setStyle((feature) => style(name, feature.properties));
    } else if (state.tiled[name] !== styleInputs(name)) {
      state.tiled[name] = styleInputs(name);
      layer.redraw();
    }
  }
}

/* Features drawn by a tiled layer: those of the tiles on screen (one feature may be in two). */
function tiledCount(layer) {
  return Object.values(layer._vectorTiles || {}).reduce((n, tile) => n + Object.keys(tile._features || {}).length, 0);
}

function legend() {
  const blocks = [];
  /* Swatches carry their colours in data attributes, applied below through the DOM: the
   * Content-Security-Policy allows no inline style attribute. */
  const swatch = (border, background) => `<span class="swatch" data-border="${esc(border)}" data-background="${esc(background)}"></span>`;
  const item = (colour, label, outline) => `<div class="legend-item">${outline ? swatch(`2px solid ${colour}`, "none") : swatch("", colour)}${esc(label)}</div>`;
  if (map.hasLayer(state.layers.clusters)) {
    blocks.push(`<h2>${esc(t("map.clusters_by_stage"))}</h2>` + Object.entries(COLOURS.clusterStage).map(([k, c]) => item(c, t(`cluster_stage.${k}`))).join(""));
  }
  if (map.hasLayer(state.layers.approved_extents)) {
    blocks.push(`<h2>${esc(t("collection.approved_extents"))}</h2>` + item(COLOURS.approval.establishment, t("approval.establishment"), true) + item(COLOURS.approval.detailed_plan, t("approval.detailed_plan"), true));
  }
  if (state.layers.landuse && map.hasLayer(state.layers.landuse)) {
    blocks.push(`<h2>${esc(t("map.landuse"))}</h2>` + state.landuseClasses.map(
      (c) => item(c.colour, `${c.code} — ${state.lang === "vi" ? c.name_vi : c.name_en}`)).join(""));
  }
  if (state.scenario.layer && map.hasLayer(state.scenario.layer)) {
    const line = (key, dashed) => `<div class="legend-item">${swatch(`${dashed ? "3px dashed" : "2px solid"} ${COLOURS.scenario[key]}`, "none")}${esc(t(`scenario_class.${key}`))}</div>`;
    blocks.push(`<h2>${esc(t("map.scenarios"))}</h2>` + line("changed", true) + line("error", true) + line("warning", true)
      + line("flagged", false) + line("unchanged", false) + line("removed", true));
  }
  if (map.hasLayer(state.layers.parcels)) {
    const colours = COLOURS[state.parcelColour];
    const byLandUse = state.parcelColour === "land_use";
    const label = (k) => (byLandUse ? t(`land_use.${k}`) : t(`lease_status.${k}`));
    blocks.push(`<h2>${esc(t("collection.parcels"))} — ${esc(t(byLandUse ? "field.land_use" : "field.lease_status"))}</h2>` + Object.entries(colours).map(([k, c]) => item(c, label(k))).join(""));
  }
  const target = document.getElementById("legend");
  target.innerHTML = blocks.join("");
  for (const el of target.querySelectorAll(".swatch")) {
    if (el.dataset.border) el.style.border = el.dataset.border;
    if (el.dataset.background) el.style.background = el.dataset.background;
  }
}

function figureRows(f) {
  const rows = ["planned", "established", "detailed_plan", "operating"].map(
    (k) => `<tr><td>${esc(t(`figure.${k}`))}</td><td class="n">${fmt(f[k].count, 0)}</td><td class="n">${ha(f[k].area_ha)}</td></tr>`);
  const single = (k, v) => `<tr><td>${esc(t(`figure.${k}`))}</td><td></td><td class="n">${v}</td></tr>`;
  rows.push(single("industrial_ha", ha(f.industrial_ha)), single("leased_ha", ha(f.leased_ha)),
            single("occupancy", pct(f.occupancy)), single("recovered_industrial_ha", ha(f.recovered_industrial_ha)),
            single("occupancy_recovered", pct(f.occupancy_recovered)));
  rows.push(`<tr><td>${esc(t("figure.projects"))}</td><td class="n">${fmt(f.projects.count, 0)}</td><td></td></tr>`);
  for (const [status, count] of Object.entries(f.projects.by_status)) {
    rows.push(`<tr><td>– ${esc(t(`project_status.${status}`))}</td><td class="n">${fmt(count, 0)}</td><td></td></tr>`);
  }
  rows.push(single("registered_capital_bn_vnd", fmt(f.projects.registered_capital_bn_vnd, 0)),
            single("implemented_capital_bn_vnd", `${fmt(f.projects.implemented_capital_bn_vnd, 0)} (${pct(f.projects.capital_realisation)})`),
            single("registered_workers", fmt(f.projects.registered_workers, 0)),
            single("workers", fmt(f.projects.workers, 0)));
  return `<thead><tr><th></th><th>${esc(t("column.count"))}</th><th>${esc(t("column.area"))}</th></tr></thead><tbody>${rows.join("")}</tbody>`;
}

function renderFigures() {
  let figures = state.stats;
  let title = `${t("map.province_figures")}${state.asOf ? ` — ${date(state.asOf)}` : ""}`;
  if (state.cluster && state.clusterStats[state.cluster]) {
    figures = state.clusterStats[state.cluster];
    title = `${t("map.cluster_figures")}: ${figures.name}`;
  } else if (state.unit) {
    figures = state.units.find((u) => u.admin_code === state.unit) || figures;
    title = figures.name || state.unit;
  }
  document.getElementById("figures-title").textContent = title;
  renderClusterLanduse();
  document.getElementById("figures-table").innerHTML = figureRows(figures);
  const select = document.getElementById("unit-select");
  select.innerHTML = `<option value="">${esc(t("whole_province"))}</option>` + state.units.map(
    (u) => `<option value="${esc(u.admin_code)}"${u.admin_code === state.unit ? " selected" : ""}>${esc(u.name)}</option>`).join("");
  const units = state.units.map((u) => `<tr data-code="${esc(u.admin_code)}"${u.admin_code === state.unit ? ' class="selected"' : ""}><td>${esc(u.name)}</td><td class="n">${fmt(u.planned.count, 0)}</td><td class="n">${fmt(u.planned.area_ha)}</td><td class="n">${pct(u.occupancy)}</td></tr>`);
  document.getElementById("units-table").innerHTML = `<thead><tr><th>${esc(t("field.unit"))}</th><th>${esc(t("column.clusters"))}</th><th>${esc(t("column.area"))}</th><th>${esc(t("column.occupancy"))}</th></tr></thead><tbody>${units.join("")}</tbody>`;
  for (const tr of document.querySelectorAll("#units-table tbody tr")) {
    tr.addEventListener("click", () => selectUnit(tr.dataset.code));
  }
}

function renderClusterLanduse() {
  const target = document.getElementById("cluster-landuse");
  const rows = state.cluster ? state.clusterLanduse[state.cluster] : null;
  if (!rows || !rows.length) { target.innerHTML = ""; return; }
  const names = Object.fromEntries(state.landuseClasses.map((c) => [c.code, state.lang === "vi" ? c.name_vi : c.name_en]));
  target.innerHTML = `<caption>${esc(t("map.landuse_of"))}</caption><tbody>` + rows.map((r) =>
    `<tr><td>${esc(r.class_code || "–")}</td><td>${esc(r.class_code ? names[r.class_code] || "" : t("landuse.uncovered"))}</td><td class="n">${ha(r.area_ha)}</td><td class="n">${pct(r.share)}</td></tr>`).join("") + "</tbody>";
}

async function loadClusterLanduse(id) {
  if (state.clusterLanduse[id] !== undefined) return;
  const feature = await getJSON(`/collections/clusters/items/${encodeURIComponent(id)}`);
  state.clusterLanduse[id] = feature.properties.landuse || [];
}

function renderDownloads() {
  const select = document.getElementById("download-layer");
  const visible = LAYER_ORDER.filter((n) => state.layers[n] && map.hasLayer(state.layers[n]));
  const names = [...visible, ...Object.keys(state.collections).filter((n) => !visible.includes(n))];
  const current = visible.includes(select.value) || names.includes(select.value) ? select.value : names[0];
  select.innerHTML = names.map((n) => `<option value="${n}"${n === current ? " selected" : ""}>${esc(state.collections[n].title)}</option>`).join("");
  const links = (state.collections[current]?.links || []).filter((link) => link.rel === "enclosure");
  document.getElementById("download-links").innerHTML = links.map((link) => {
    const short = link.title.split(" — ")[0];
    return `<a href="${esc(link.href)}" type="${esc(link.type)}" download>${esc(short)}</a>`;
  }).join("");
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  applyTexts();
  renderHealth();
  renderAccount();
  document.getElementById("lang-vi").classList.toggle("active", state.lang === "vi");
  document.getElementById("lang-en").classList.toggle("active", state.lang === "en");
  const province = document.getElementById("title").dataset.province;
  document.getElementById("title").textContent = t("title", { province });
  legend();
  renderFigures();
  renderScenario();
  map.closePopup();
}

/* ------------------------------------------------------------ 2030 scenarios */
function scenarioKey(props) {
  if (!props.in_plan) return "removed";
  if (props.change) return props.severity === "error" ? "error" : props.severity === "warning" ? "warning" : "changed";
  return props.severity ? "flagged" : "unchanged";
}

function scenarioStyle(props) {
  const key = scenarioKey(props);
  const colour = COLOURS.scenario[key];
  const focus = state.scenario.focus === props.cluster_id;
  const changed = !!props.change && props.in_plan;
  const className = props.in_plan ? `ccn-scenario${changed ? " ccn-scenario-changed" : ""}` : "ccn-scenario-removed";
  if (key === "unchanged") {
    return { className, color: colour, weight: focus ? 4 : 1, opacity: 0.7, fill: false };
  }
  return { className, color: colour, weight: (changed ? 4 : key === "removed" ? 2 : 3) + (focus ? 3 : 0),
           dashArray: changed ? "8 6" : key === "removed" ? "2 5" : null, opacity: 1,
           fill: changed || key === "removed", fillColor: colour, fillOpacity: changed ? 0.18 : 0.08 };
}

function findingMessage(f) { return state.lang === "vi" ? f.message_vi : f.message_en; }

function scenarioPopup(props) {
  const r = state.scenario.result;
  const horizon = r ? r.horizon : "";
  const change = props.change ? `${t(`scenario_change.${props.change}`)}${props.change_year ? ` (${props.change_year})` : ""}` : t("scenario_change.none");
  const findings = (r ? r.findings : []).filter((f) => f.cluster_id === props.cluster_id);
  const list = findings.length ? `<p><b>${esc(t("findings"))}</b></p><ul class="popup-findings">${findings.map(
    (f) => `<li class="${esc(f.severity)}"><b>${esc(f.rule)}</b> ${esc(f.year ?? "")}: ${esc(findingMessage(f))}</li>`).join("")}</ul>` : "";
  return `<div class="popup"><h3>${esc(props.name)}</h3><table>
    ${row(t("field.cluster_id"), esc(props.cluster_id))}
    ${row(t("column.change"), esc(change))}
    ${row(`${t("field.area_ha")} ${horizon}`, ha(props.plan_ha))}
    ${row(`${t("field.established_ha")} ${horizon}`, ha(props.established_ha))}
    ${row(`${t("field.occupancy")} ${horizon}`, pct(props.occupancy))}
  </table>${list}</div>`;
}

function renderScenarioSelect() {
  const select = document.getElementById("scenario-select");
  select.innerHTML = `<option value="">${esc(t("map.no_scenario"))}</option>` + state.scenario.list.map((s) =>
    `<option value="${esc(s.id)}"${s.id === state.scenario.id ? " selected" : ""}${s.error ? ` disabled title="${esc(s.error)}"` : ""}>${esc(s.name)}</option>`).join("");
}

function renderScenario() {
  renderScenarioSelect();
  const summary = document.getElementById("scenario-summary");
  const table = document.getElementById("scenario-findings");
  const answers = document.getElementById("scenario-answers");
  const r = state.scenario.result;
  if (!state.scenario.id || !r || state.scenario.loaded !== state.scenario.id) {
    summary.textContent = state.scenario.error || (state.scenario.id ? t("map.computing") : "");
    table.innerHTML = "";
    answers.innerHTML = "";
    return;
  }
  const errors = r.findings.filter((f) => f.severity === "error").length;
  summary.textContent = `${r.scenario} · ${r.base_year}–${r.horizon} · ${r.changes.length} ${t("map.changes_n")} · ${errors} ${t("map.errors_n")} · ${r.findings.length - errors} ${t("map.warnings_n")}`;
  table.innerHTML = r.findings.length ? `<thead><tr><th>${esc(t("column.rule"))}</th><th>${esc(t("column.cluster"))}</th><th>${esc(t("column.year"))}</th><th>${esc(t("column.message"))}</th></tr></thead><tbody>`
    + r.findings.map((f) => `<tr class="${esc(f.severity)}${f.cluster_id && f.cluster_id === state.scenario.focus ? " selected" : ""}" data-cluster="${esc(f.cluster_id ?? "")}"><td>${esc(f.rule)}</td><td>${esc(f.cluster_id ?? t("whole_province"))}</td><td>${esc(f.year ?? "")}</td><td>${esc(findingMessage(f))}</td></tr>`).join("") + "</tbody>"
    : `<tbody><tr><td>${esc(t("map.no_findings"))}</td></tr></tbody>`;
  for (const tr of table.querySelectorAll("tbody tr[data-cluster]")) {
    tr.addEventListener("click", () => focusScenarioCluster(tr.dataset.cluster));
  }
  const rice = r.answers.rice_converted_ha;
  const gates = r.answers.gate_opens.map((g) => `<tr><td>${esc(g.name || g.admin_code)}</td><td class="n">${g.year ? esc(g.year) : esc(t("not_by", { horizon: r.horizon }))}</td></tr>`).join("");
  answers.innerHTML = `<p>${esc(t("map.rice_converted"))} ${esc(r.horizon)}: <b>${rice === null ? esc(t("landuse.uncovered")) : ha(rice)}</b></p>`
    + `<table class="gates"><caption>${esc(t("map.gate_opens"))}</caption><tbody>${gates}</tbody></table>`;
}

/* Zoom to a finding's cluster (the whole scenario for a province-wide finding). */
function focusScenarioCluster(id) {
  const layer = state.scenario.layer;
  if (!layer) return;
  state.scenario.focus = id || null;
  layer.setStyle((f) => scenarioStyle(f.properties));
  let target = null;
  layer.eachLayer((l) => { if (id && l.feature.properties.cluster_id === id) target = l; });
  if (target) {
    map.fitBounds(target.getBounds(), { maxZoom: 15 });
    target.bringToFront();
  } else {
    map.fitBounds(layer.getBounds().pad(0.05));
  }
  for (const tr of document.querySelectorAll("#scenario-findings tbody tr")) {
    tr.classList.toggle("selected", !!id && tr.dataset.cluster === id);
  }
}

async function selectScenario(id) {
  const s = state.scenario;
  s.id = id || "";
  s.focus = null;
  s.error = "";
  if (s.layer) { map.removeLayer(s.layer); s.layer = null; }
  s.result = null;
  renderScenario();
  legend();
  if (!s.id) return;
  const key = s.id;
  try {
    const [result, data] = await Promise.all([
      getJSON(`/scenarios/${encodeURIComponent(key)}?lang=${state.lang}`),
      getJSON(`/scenarios/${encodeURIComponent(key)}/clusters?removed=true`),
    ]);
    if (s.id !== key) return; /* another scenario was chosen meanwhile */
    s.result = result;
    s.data = data;
    s.layer = L.geoJSON(data, {
      style: (feature) => scenarioStyle(feature.properties),
      onEachFeature: (feature, path) => path.bindPopup(() => scenarioPopup(feature.properties), { maxWidth: 380 }),
    }).addTo(map);
    s.loaded = key;
  } catch (err) {
    if (s.id !== key) return;
    s.error = String(err.message || err);
  }
  renderScenario();
  legend();
}

async function loadScenarioList() {
  try {
    state.scenario.list = await getJSON("/scenarios");
  } catch (err) {
    state.scenario.list = [];
    state.scenario.error = String(err.message || err);
  }
  renderScenario();
}

function selectUnit(code) {
  state.unit = code || "";
  state.cluster = null;
  restyle();
  renderFigures();
  const layer = state.layers.admin_units;
  if (code && layer && !state.tiled.admin_units) {
    layer.eachLayer((l) => { if (l.feature.properties.code === code) map.fitBounds(l.getBounds()); });
  }
}
async function selectCluster(id) {
  state.cluster = id;
  restyle();
  renderFigures();
  await loadClusterLanduse(id);
  if (state.cluster === id) renderClusterLanduse();
}

async function setAsOf(value) {
  state.asOf = value;
  await loadStats();
  restyle();
  renderFigures();
  legend();
}

/* minZoom 0: a tiled layer's own minimum zoom must not become the map's */
const map = L.map("map", { preferCanvas: false, zoomControl: true, minZoom: 0 });
map.createPane("ccnTiles").style.zIndex = 450; /* tiled layers: above the GeoJSON ones, below popups */
const osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
  maxZoom: 19, attribution: "© OpenStreetMap contributors",
});

/* Editing: a user signs in (HTTP Basic, kept in this page only: no cookie, so no other
   site can write in their name) and an editor records leases from a parcel's popup. */
async function signIn(event) {
  event.preventDefault();
  const name = document.getElementById("user-name").value;
  const bytes = new TextEncoder().encode(`${name}:${document.getElementById("password").value}`);
  const header = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  const message = document.getElementById("sign-in-message");
  const response = await fetch("/me", { headers: { Accept: "application/json", Authorization: header } });
  if (!response.ok) { message.textContent = t("map.sign_in_failed"); return; }
  const me = await response.json();
  state.auth = { header, name: me.name, role: me.role };
  document.getElementById("password").value = "";
  message.textContent = "";
  renderAccount();
}

function signOut() { state.auth = null; renderAccount(); map.closePopup(); }

function canEdit() { return !!state.auth && ["editor", "admin"].includes(state.auth.role); }

function renderAccount() {
  document.getElementById("sign-in").hidden = !!state.auth;
  const signedIn = document.getElementById("signed-in");
  signedIn.hidden = !state.auth;
  signedIn.querySelector("span").textContent = state.auth ? t("map.signed_in", state.auth) : "";
  document.getElementById("user-name").placeholder = t("map.user_name");
  document.getElementById("password").placeholder = t("map.password");
}

function leaseForm(props) {
  return `<form class="lease" data-parcel="${esc(props.parcel_id)}" data-cluster="${esc(props.cluster_id)}">
    <label>${esc(t("map.lease_project"))}<select name="project" required></select></label>
    <label>${esc(t("field.leased_on"))}<input type="date" name="leased_on" required></label>
    <label>${esc(t("map.note"))}<input type="text" name="note" maxlength="500"></label>
    <button type="submit">${esc(t("map.record_lease"))}</button>
    <p class="message"></p>
  </form>`;
}

/* A popup's lease form: the projects of the parcel's cluster to pick from, then a PATCH
   with the parcel's ETag in If-Match; 412 and 422 are said in the form. */
async function wireLeaseForm(form, at) {
  const projects = await getJSON(`/collections/projects/items?cluster_id=${encodeURIComponent(form.dataset.cluster)}&limit=10000`);
  form.elements.project.innerHTML = projects.features.map((f) =>
    `<option value="${esc(f.properties.project_id)}">${esc(f.properties.project_id)} — ${esc(f.properties.name)}</option>`).join("");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = form.querySelector(".message");
    const url = `/collections/parcels/items/${encodeURIComponent(form.dataset.parcel)}`;
    const read = await fetch(url, { headers: { Accept: "application/geo+json" } });
    const note = form.elements.note.value ? `?note=${encodeURIComponent(form.elements.note.value)}` : "";
    const response = await fetch(url + note, {
      method: "PATCH",
      headers: { Authorization: state.auth.header, "If-Match": read.headers.get("ETag"), "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ properties: { project_id: form.elements.project.value, leased_on: form.elements.leased_on.value } }),
    });
    if (response.status === 204) {
      form.querySelector("button").disabled = true;
      state.recorded = form.dataset.parcel; // its new popup says so
      await refreshParcels(form.dataset.parcel, at);
      return;
    }
    const problem = await response.json().catch(() => ({}));
    if (response.status === 412) message.textContent = t("map.changed_meanwhile");
    else if (problem.problems) message.textContent = `${t("map.not_recorded")} ${problem.problems.map((p) => p.message).join("; ")}`;
    else message.textContent = `${t("map.not_recorded")} ${problem.description || response.status}`;
  });
}

/* After an edit: the figures, and the parcels as the server now has them, the edited
   one's popup open again with what it now holds. */
async function refreshParcels(id, at) {
  await loadStats();
  renderFigures();
  if (state.tiled.parcels) {
    state.layers.parcels.redraw();
    const feature = await getJSON(`/collections/parcels/items/${encodeURIComponent(id)}`);
    L.popup({ maxWidth: 360 }).setLatLng(at).setContent(popup("parcels", feature.properties)).openOn(map);
    return;
  }
  state.data.parcels = await readCollection("parcels");
  const old = state.layers.parcels;
  const shown = map.hasLayer(old);
  map.eachLayer((l) => { if (l instanceof L.Popup) map.removeLayer(l); }); // the old one's
  const fresh = buildLayer("parcels");
  if (shown) { map.removeLayer(old); fresh.addTo(map); fresh.bringToFront(); }
  fresh.eachLayer((l) => { if (l.feature.properties.parcel_id === id) l.openPopup(); });
}

/* Whether the file as it is now is served (GET /health): a banner with its problems when
   a newer revision breaks the data model and the last valid one is shown. */
const HEALTH_EVERY_MS = 30000;
const HEALTH_PROBLEMS_SHOWN = 5;

async function checkHealth() {
  try {
    state.health = await getJSON("/health");
  } catch (err) {
    return; // the server is away: the next check tells
  }
  renderHealth();
}

function renderHealth() {
  const banner = document.getElementById("health");
  const problems = state.health && state.health.status === "stale" ? state.health.problems : [];
  banner.hidden = !problems.length;
  if (!problems.length) { banner.innerHTML = ""; return; }
  const items = problems.slice(0, HEALTH_PROBLEMS_SHOWN).map((p) =>
    `<li>${esc([p.layer, p.feature, p.field].filter((x) => x).join(", "))}: ${esc(p.message)}</li>`);
  banner.innerHTML = `${esc(t("map.stale"))}<ul>${items.join("")}</ul>`;
}

/* The labels of the page (its data-i18n elements) in the language shown. */
function applyTexts() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

async function start() {
  Object.assign(TEXTS, await getJSON("/texts"));
  applyTexts();
  checkHealth();
  setInterval(checkHealth, HEALTH_EVERY_MS);
  document.getElementById("sign-in").addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", signOut);
  map.on("popupopen", (e) => {
    const form = e.popup.getElement().querySelector("form.lease");
    if (form) wireLeaseForm(form, e.popup.getLatLng());
  });
  renderAccount();
  const [collections, classes] = await Promise.all([getJSON("/collections"), getJSON("/landuse/classes"), loadStats()]);
  state.landuseClasses = classes;
  if (classes.length) {
    state.layers.landuse = L.tileLayer("/landuse/tiles/{z}/{x}/{y}.png", { maxZoom: 20, opacity: 0.8 });
    const box = document.querySelector('input[data-layer="landuse"]');
    document.getElementById("landuse-toggle").hidden = false;
    box.addEventListener("change", () => {
      if (box.checked) { state.layers.landuse.addTo(map); state.layers.landuse.bringToBack(); }
      else map.removeLayer(state.layers.landuse);
      legend();
    });
  }
  for (const c of collections.collections) state.collections[c.id] = c;
  const names = LAYER_ORDER.filter((n) => state.collections[n]);
  const tilesets = await Promise.all(names.map(tilesetIfBig));
  const data = await Promise.all(names.map((n, i) => (tilesets[i] ? null : readCollection(n))));
  names.forEach((n, i) => { if (data[i]) state.data[n] = data[i]; });
  for (const [i, name] of names.entries()) {
    const layer = tilesets[i] ? buildTiledLayer(name, tilesets[i]) : buildLayer(name);
    const box = document.querySelector(`input[data-layer="${name}"]`);
    if (box && box.checked) layer.addTo(map);
    if (box) {
      box.addEventListener("change", () => {
        if (box.checked) layer.addTo(map); else map.removeLayer(layer);
        if (state.layers.parcels && map.hasLayer(state.layers.parcels)) state.layers.parcels.bringToFront();
        legend();
        renderDownloads();
      });
    }
  }
  const bounds = layerBounds("clusters");
  map.fitBounds(bounds.isValid() ? bounds.pad(0.1) : [[20.2, 106.0], [20.8, 106.7]]);
  map.on("zoomend", () => {
    if (state.layers.parcels && !state.tiled.parcels) state.layers.parcels.setStyle((f) => style("parcels", f.properties));
  });
  document.getElementById("lang-vi").addEventListener("click", () => { state.lang = "vi"; applyLanguage(); });
  document.getElementById("lang-en").addEventListener("click", () => { state.lang = "en"; applyLanguage(); });
  document.getElementById("parcel-colour").addEventListener("change", (e) => { state.parcelColour = e.target.value; restyle(); legend(); });
  document.getElementById("as-of").addEventListener("change", (e) => setAsOf(e.target.value));
  document.getElementById("as-of-clear").addEventListener("click", () => { document.getElementById("as-of").value = ""; setAsOf(""); });
  document.getElementById("unit-select").addEventListener("change", (e) => selectUnit(e.target.value));
  document.getElementById("download-layer").addEventListener("change", renderDownloads);
  document.getElementById("basemap").addEventListener("change", (e) => { if (e.target.checked) osm.addTo(map); else map.removeLayer(osm); });
  document.getElementById("scenario-select").addEventListener("change", (e) => selectScenario(e.target.value));
  await loadScenarioList();
  applyLanguage();
  renderDownloads();
}

/* A big layer's tileset (its count is above TILES_ABOVE and the server tiles it), else null. */
async function tilesetIfBig(name) {
  const tiles = (state.collections[name].links || []).find((link) => link.rel.endsWith("/tilesets-vector"));
  if (!tiles) return null;
  const probe = await getJSON(`/collections/${name}/items?limit=1`);
  if (probe.numberMatched <= TILES_ABOVE) return null;
  const list = await getJSON(tiles.href);
  const entry = list.tilesets.find((s) => s.tileMatrixSetURI.endsWith("/WebMercatorQuad"));
  return entry ? getJSON(entry.links.find((link) => link.rel === "self").href) : null;
}

function layerBounds(name) {
  if (!state.tiled[name]) return state.layers[name].getBounds();
  const box = state.collections[name].extent?.spatial?.bbox?.[0];
  return box ? L.latLngBounds([box[1], box[0]], [box[3], box[2]]) : L.latLngBounds([]);
}

/* For people and tests alike: what is on the map. */
window.ccn = {
  map,
  ready: start().then(() => true),
  counts: () => Object.fromEntries(Object.entries(state.layers).filter(([n]) => n !== "landuse")
    .map(([n, l]) => [n, state.tiled[n] ? tiledCount(l) : l.getLayers().length])),
  tiled: () => Object.keys(state.tiled),
  state,
  selectScenario,
  scenarioCount: () => (state.scenario.layer ? state.scenario.layer.getLayers().filter((l) => l.feature.properties.in_plan).length : 0),
};
