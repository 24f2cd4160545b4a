/* recyclenet workspace: one page over the service's API (no build step, no CDN).
 * The API key lives in sessionStorage only and is sent as the X-API-Key header; it never
 * goes into a URL (downloads are fetched with the header and saved from a blob). */
'use strict';

const S = {
  key: sessionStorage.getItem('rn_key') || '',
  lang: localStorage.getItem('rn_lang') || ((navigator.language || '').startsWith('zh') ? 'zh' : 'en'),
  labels: { en: {}, zh: {} },
  step: 'network',
  network: null,
  data: {},          // kind -> {features, records, source}
  check: null,       // the last upload check
  checkFile: null,   // the last uploaded File (for re-reading with a mapping)
  plan: null,        // {id, kind, doc, layers, indicators}
  siting: null,
  routing: null,
  job: null,
  compare: null,
};
if (!['en', 'zh'].includes(S.lang)) S.lang = 'en';

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function T(key, vars) {
  let text = S.labels[S.lang][key] ?? S.labels.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) text = text.split('{' + k + '}').join(String(v));
  return text;
}
function fieldName(field) {
  const last = String(field).split('.').filter((p) => !/^\d+$/.test(p)).pop() || field;
  const key = 'app_field_' + last;
  return (S.labels[S.lang][key] || S.labels.en[key]) ? T(key) : last;
}

/* ------------------------------------------------------------------ status and API */
function status(text, isError) {
  const el = $('#status');
  el.textContent = text;
  el.classList.toggle('error', !!isError);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : 'HTTP ' + status);
    this.status = status;
    this.problem = problem || {};
  }
}

function describeError(err) {
  if (!(err instanceof ApiError)) return T('app_err_network', { message: err.message });
  if (err.status === 401) return T('app_err_key');
  const items = err.problem.errors || [];
  if (items.length) {
    return items.map((e) => T('app_err_field', { field: fieldName(e.field), message: errorMessage(e) })).join(' · ');
  }
  return T('app_err_server', { status: err.status, message: err.message });
}

/* A validation error's message in the user's language where its type is a common one (the
 * bound is read from the service's message), else the service's message as it is. */
const ERROR_TYPES = { greater_than_equal: 'app_err_ge', greater_than: 'app_err_gt', less_than_equal: 'app_err_le', less_than: 'app_err_lt',
  missing: 'app_err_missing', int_parsing: 'app_err_int', int_from_float: 'app_err_int', float_parsing: 'app_err_number', finite_number: 'app_err_number' };
function errorMessage(e) {
  const key = ERROR_TYPES[e.type];
  if (!key) return e.message;
  const bound = /(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i.exec(String(e.message || ''));
  if (/^app_err_[gl]/.test(key) && !bound) return e.message;
  return T(key, { n: bound ? bound[1] : '' });
}

async function api(method, path, opts) {
  opts = opts || {};
  const headers = { 'X-API-Key': S.key };
  let body;
  if (opts.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.json); }
  if (opts.form) body = opts.form;
  const r = await fetch(path, { method, headers, body });
  if (opts.blob && r.ok) return r.blob();
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

async function guarded(fn) {
  try { return await fn(); } catch (err) { console.error(err); status(describeError(err), true); return undefined; }
}

async function download(path, filename) {
  const blob = await api('GET', path, { blob: true });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  status(T('app_downloaded', { file: filename }));
}

function tenantKey(prefix) {  // a browser-storage key per API key (the key itself is never stored there)
  let h = 5381;
  for (const c of S.key) h = ((h * 33) ^ c.charCodeAt(0)) >>> 0;
  return prefix + h.toString(16);
}

/* ------------------------------------------------------------------ scenarios
 * Every siting and routing run is a plan the service keeps, with the name and tags given
 * when it was run: listed with GET /plans (newest first), renamed and re-tagged with
 * PATCH /plans/{id}, deleted with DELETE /plans/{id}. */
const PLAN_PAGES = 5;  // at most 5 pages of 1000: the newest 5000 plans
const Plans = {
  names: {}, // plan id -> name as the server last said (GET /plans, GET /plans/{id}, PATCH)
  async list() {
    const items = [];
    for (let page = 0; page < PLAN_PAGES; page++) {
      const r = await api('GET', `/plans?limit=1000&offset=${items.length}&kind=siting&kind=routing`);
      items.push(...r.items);
      if (!r.items.length || items.length >= r.total) break;
    }
    for (const p of items) Plans.names[p.id] = p.name || '';
    return items.map((p) => ({ id: p.id, kind: p.kind, created_at: p.created_at, name: p.name || '', tags: p.tags || [] }));
  },
  async rename(id, name, tags) {
    const p = await api('PATCH', '/plans/' + id, { json: { name, tags } });
    Plans.names[id] = p.name || '';
    return p;
  },
  async remove(id) {
    await api('DELETE', '/plans/' + id);
    delete Plans.names[id];
    for (const k of ['plan', 'siting', 'routing']) if (S[k] && S[k].id === id) S[k] = null;
    for (const mp of Object.values(maps)) {  // a deleted plan leaves the maps
      if (mp.planId === id) { mp.overlay.clearLayers(); mp.repaint = null; mp.planId = null; mp.counts = {}; }
    }
    if (S.actuals && S.actuals.planId === id) S.actuals = null;
  },
  nameOf(id) { return Plans.names[id] || ''; },
};
/* The name and tags a run is given (its form's name and tags fields), for POST /siting and /routing. */
function labelsOf(prefix) {
  const name = ($(`#${prefix}-name`) || { value: '' }).value.trim();
  const tags = ($(`#${prefix}-tags`) || { value: '' }).value.split(',').map((t) => t.trim()).filter(Boolean);
  return { ...(name ? { name } : {}), ...(tags.length ? { tags } : {}) };
}

/* ------------------------------------------------------------------ base map and datum
 * The offline base layer is the network's roads, in WGS-84 like every layer the API serves.
 * A tenant may add a tile layer from a URL template ({s}, {x}, {y}, {z}), kept in this
 * browser per API key. Chinese providers (AMap/Gaode, Tencent) serve tiles in GCJ-02: the
 * overlays (roads, uploads, stations, routes, actuals) are then drawn converted to GCJ-02
 * so they line up, and the map says which datum it shows. The conversion is the project's
 * (recyclenet.geo.wgs84_to_gcj02, the published formula; the browser tests check that the
 * two agree to 1e-9 degrees and that what is drawn equals the API's ?crs=gcj02 layers). */
const DATUMS = ['wgs84', 'gcj02'];
const GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;
const GCJ_BOX = [72.004, 0.8293, 137.8347, 55.8271];  // west, south, east, north: no offset outside
function wgs84ToGcj02(lon, lat) {
  const [w, so, e, n] = GCJ_BOX;
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || !(lon >= w && lon <= e && lat >= so && lat <= n)) return [lon, lat];
  const x = lon - 105.0, y = lat - 35.0, PI = Math.PI, sin = Math.sin;
  const common = 20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI);
  let dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
    + (common + 20.0 * sin(y * PI) + 40.0 * sin(y / 3.0 * PI) + 160.0 * sin(y / 12.0 * PI) + 320.0 * sin(y * PI / 30.0)) * 2.0 / 3.0);
  let dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
    + (common + 20.0 * sin(x * PI) + 40.0 * sin(x / 3.0 * PI) + 150.0 * sin(x / 12.0 * PI) + 300.0 * sin(x / 30.0 * PI)) * 2.0 / 3.0);
  const rad = lat / 180.0 * PI;
  const magic = 1.0 - GCJ_EE * sin(rad) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dlat = dlat * 180.0 / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtMagic) * PI);
  dlon = dlon * 180.0 / (GCJ_A / sqrtMagic * Math.cos(rad) * PI);
  return [lon + dlon, lat + dlat];
}
function convertCoords(c, depth) {
  if (depth === 0) { const [x, y] = wgs84ToGcj02(c[0], c[1]); return c.length > 2 ? [x, y, ...c.slice(2)] : [x, y]; }
  return c.map((p) => convertCoords(p, depth - 1));
}
const DEPTH = { Point: 0, MultiPoint: 1, LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3 };
function convertGeometry(g) {
  if (!g) return g;
  if (g.type === 'GeometryCollection') return { ...g, geometries: g.geometries.map(convertGeometry) };
  return { ...g, coordinates: convertCoords(g.coordinates, DEPTH[g.type]) };
}
function datum() { return S.tiles && S.tiles.on ? S.tiles.datum : 'wgs84'; }
/* A GeoJSON object (WGS-84, as served) in the datum the map shows. */
function shown(obj) {
  if (!obj || datum() === 'wgs84') return obj;
  if (obj.type === 'FeatureCollection') return { ...obj, features: obj.features.map(shown) };
  if (obj.type === 'Feature') return { ...obj, geometry: convertGeometry(obj.geometry) };
  return convertGeometry(obj);
}

const tilesKey = () => tenantKey('rn_tiles_');
function loadTiles() {
  try { S.tiles = JSON.parse(localStorage.getItem(tilesKey()) || 'null'); } catch (e) { S.tiles = null; }
  if (S.tiles && !DATUMS.includes(S.tiles.datum)) S.tiles = null;
}
function checkTiles(t) {
  const bad = (field, msg) => new ApiError(422, { errors: [{ field: 'tiles.' + field, message: T(msg) }] });
  if (!/^(https?:\/\/|\/)/.test(t.url) || !['{x}', '{y}', '{z}'].every((p) => t.url.includes(p))) throw bad('tile_url', 'app_tile_url_bad');
  if (t.url.includes('{s}') && !t.subdomains) throw bad('tile_subdomains', 'app_tile_subdomains_bad');
  if (!DATUMS.includes(t.datum)) throw bad('tile_datum', 'app_tile_datum_bad');
}
function applyBaseMap() {
  for (const mp of Object.values(maps)) {
    if (mp.tiles) { mp.map.removeLayer(mp.tiles); mp.tiles = null; }
    if (S.tiles && S.tiles.on) {
      mp.tiles = L.tileLayer(S.tiles.url, {
        subdomains: S.tiles.subdomains || 'abc', attribution: esc(S.tiles.attribution || ''), maxZoom: 19, className: 'rn-tiles',
      }).addTo(mp.map);
    }
    mp.datumControl.update();
    mp.map.getContainer().dataset.datum = datum();
    paintRoads(mp);
    if (mp.repaint) mp.repaint();  // the overlay in the datum now shown
  }
}
function setTiles(t) {
  S.tiles = t;
  localStorage.setItem(tilesKey(), JSON.stringify(t));
  applyBaseMap();
}

/* ------------------------------------------------------------------ maps */
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const maps = {};
const DatumControl = L.Control.extend({
  options: { position: 'bottomleft' },
  onAdd() { this._div = L.DomUtil.create('div', 'datum-note'); this.update(); return this._div; },
  update() { if (this._div) this._div.textContent = T('app_datum_shown', { datum: T('app_datum_' + datum()) }); },
});
function makeMap(id) {
  const m = L.map(id, { zoomControl: true, attributionControl: true, keyboard: true }).setView([30, 110], 4);
  m.attributionControl.addAttribution('© OpenStreetMap contributors');
  const mp = { map: m, roads: L.layerGroup().addTo(m), overlay: L.layerGroup().addTo(m), counts: {}, tiles: null };
  mp.datumControl = new DatumControl().addTo(m);
  m.getContainer().dataset.datum = datum();
  return mp;
}
function fitTo(mp, layer) {
  try { const b = layer.getBounds(); if (b.isValid()) mp.map.fitBounds(b.pad(0.05)); } catch (e) { /* empty layer */ }
}
function setCount(mp, name, n) {
  mp.counts[name] = n;
  const el = mp.map.getContainer();
  el.dataset[name.replace(/_(\w)/g, (_, c) => c.toUpperCase())] = String(n);
}

async function drawRoads(mp, networkId) {
  const feats = [];
  for (let offset = 0, page = 0; page < 50; page++) {
    const fc = await api('GET', `/networks/${networkId}/roads.geojson?limit=1000&offset=${offset}`);
    feats.push(...fc.features);
    if (fc.features.length < 1000) break;
    offset += fc.features.length;
  }
  S.roads = { type: 'FeatureCollection', features: feats };
  const layer = paintRoads(mp);
  fitTo(mp, layer);
}
/* The roads (S.roads, WGS-84) on a map, in the datum shown; lighter over tiles. */
function paintRoads(mp) {
  mp.roads.clearLayers();
  if (!S.roads) return null;
  const over = S.tiles && S.tiles.on;
  const layer = L.geoJSON(shown(S.roads), { style: { color: over ? '#555' : '#9a9a9a', weight: 1, opacity: over ? 0.5 : 0.8 }, interactive: false });
  layer.addTo(mp.roads);
  setCount(mp, 'roads', S.roads.features.length);
  return layer;
}

function legend(entries) {
  $('#legend').innerHTML = entries.length ? `<b>${esc(T('legend'))}</b><br>` + entries.map(([c, k]) => `<i style="background:${c}"></i>${esc(T(k))}`).join('<br>') : '';
}

function pointLayer(fc, colour, popup) {
  return L.geoJSON(fc, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 5, color: colour, weight: 1, fillOpacity: 0.8 }),
    onEachFeature: (f, l) => l.bindPopup(popup ? popup(f) : esc(f.id)),
  });
}

function bearing(a, b) {
  const toR = Math.PI / 180;
  const y = Math.sin((b[0] - a[0]) * toR) * Math.cos(b[1] * toR);
  const x = Math.cos(a[1] * toR) * Math.sin(b[1] * toR) - Math.sin(a[1] * toR) * Math.cos(b[1] * toR) * Math.cos((b[0] - a[0]) * toR);
  return Math.atan2(y, x) / toR;
}

/* Draw a map's overlay: paint(refit) draws into mp.overlay, in the datum shown. It is kept,
 * so that a change of datum draws the overlay again (without moving the view). */
function paintOverlay(mp, paint) {
  mp.planId = null;
  mp.repaint = () => { mp.overlay.clearLayers(); paint(false); };
  mp.overlay.clearLayers();
  paint(true);
}

function drawPlan(mp, plan) {
  paintOverlay(mp, (refit) => paintPlan(mp, plan, refit));
  mp.planId = plan.id;  // what the map shows (paintOverlay forgets it)
  mp.map.invalidateSize();
}

function paintPlan(mp, plan, refit) {
  mp.counts = {};
  const layers = Object.fromEntries(Object.entries(plan.layers).map(([k, v]) => [k, shown(v)]));  // in the datum shown
  const group = L.featureGroup().addTo(mp.overlay);
  if (plan.kind === 'siting') {
    if (layers.coverage) {
      L.geoJSON(layers.coverage, { style: { color: '#2ca02c', weight: 1, fillOpacity: 0.12 } }).addTo(group);
      setCount(mp, 'coverage', layers.coverage.features.length);
    }
    if (layers.assignments) {
      L.geoJSON(layers.assignments, {
        style: { color: '#ff7f0e', weight: 1, opacity: 0.6 },
        pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 3, color: '#d62728' }),
      }).addTo(group);
      setCount(mp, 'assignments', layers.assignments.features.length);
    }
    const open = (layers.stations ? layers.stations.features : []).filter((f) => f.properties.state !== 'closed');
    const stations = L.geoJSON({ type: 'FeatureCollection', features: layers.stations ? layers.stations.features : [] }, {
      pointToLayer: (f, ll) => L.circleMarker(ll, {
        radius: 8, weight: 2, color: '#fff', fillOpacity: 1,
        fillColor: f.properties.state === 'closed' ? '#7f7f7f' : f.properties.state === 'kept' ? '#1f77b4' : '#d62728',
        className: 'rn-station',
      }),
      onEachFeature: (f, l) => l.bindPopup(`<b>${esc(f.id)}</b><br>${esc(T('app_state_' + f.properties.state))}<br>${esc(T('households'))}: ${esc(Math.round(f.properties.households || 0))}`),
    }).addTo(group);
    setCount(mp, 'stations', open.length);
    legend([['#d62728', 'new_station'], ['#1f77b4', 'existing_station'], ['#7f7f7f', 'closed_station'], ['#2ca02c', 'coverage'], ['#ff7f0e', 'assignments']]);
    if (refit) fitTo(mp, stations.getLayers().length ? group : stations);
  } else {
    const vehicles = [];
    const colourOf = (v) => { if (!vehicles.includes(v)) vehicles.push(v); return COLOURS[vehicles.indexOf(v) % COLOURS.length]; };
    const routes = layers.routes ? layers.routes.features : [];
    for (const f of routes) {
      const c = colourOf(f.properties.vehicle_id);
      L.geoJSON(f, { style: { color: c, weight: 4, opacity: 0.85, className: 'rn-route' } })
        .bindPopup(`<b>${esc(f.properties.vehicle_id)}</b><br>${(f.properties.distance_m / 1000).toFixed(1)} km`).addTo(group);
      const coords = f.geometry.type === 'LineString' ? f.geometry.coordinates : [].concat(...f.geometry.coordinates);
      const step = Math.max(1, Math.floor(coords.length / 8));
      for (let i = step; i < coords.length; i += step) {
        const a = coords[i - 1], b = coords[i];
        if (a[0] === b[0] && a[1] === b[1]) continue;
        const angle = bearing(a, b) - 90;
        L.marker([(a[1] + b[1]) / 2, (a[0] + b[0]) / 2], {
          interactive: false, keyboard: false,
          icon: L.divIcon({ className: 'arrow-label', html: `<span style="display:inline-block;color:${c};transform:rotate(${angle}deg)">➤</span>`, iconSize: [14, 14] }),
        }).addTo(group);
      }
    }
    setCount(mp, 'routes', routes.length);
    const stops = layers.stops ? layers.stops.features : [];
    let unserved = 0;
    for (const f of stops) {
      const p = f.properties;
      const ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      if (p.kind === 'unserved') {
        unserved++;
        L.circleMarker(ll, { radius: 7, color: '#000', fillColor: '#fff', fillOpacity: 1, weight: 2, className: 'rn-unserved' })
          .bindPopup(`<b>${esc(p.order_id)}</b><br>${esc(T('reason_' + p.reason))}`).addTo(group);
      } else if (p.kind === 'order' || p.kind === 'unload') {
        L.marker(ll, {
          keyboard: false,
          icon: L.divIcon({ className: 'stop-label', html: String(p.sequence), iconSize: [18, 18] }),
        }).bindPopup(`<b>${esc(p.vehicle_id)} #${esc(p.sequence)}</b><br>${esc(p.location_id)}<br>${esc(T('arrival'))}: ${esc(p.arrival || '')}`).addTo(group);
      } else if (p.kind === 'start') {
        L.circleMarker(ll, { radius: 7, color: '#000', fillColor: '#444', fillOpacity: 1 }).bindPopup(esc(T('depot')) + ' ' + esc(p.location_id)).addTo(group);
      }
    }
    setCount(mp, 'unserved', unserved);
    const entries = vehicles.map((v, i) => [COLOURS[i % COLOURS.length], v]);
    $('#legend').innerHTML = `<b>${esc(T('legend'))}</b><br>` + entries.map(([c, v]) => `<i style="background:${c}"></i>${esc(T('vehicle'))} ${esc(v)}`).join('<br>') +
      `<br><i style="background:#fff;border:2px solid #000"></i>${esc(T('unserved'))}<br><i style="background:#444"></i>${esc(T('depot'))}`;
    if (refit) fitTo(mp, group);
  }
}

async function loadPlan(id) {
  const doc = await api('GET', '/plans/' + id);
  if (doc.name) Plans.names[id] = doc.name;
  const names = doc.kind === 'siting' ? ['stations', 'assignments', 'coverage', 'centres'] : ['routes', 'stops'];
  const layers = {};
  await Promise.all(names.filter((n) => doc.links[n]).map(async (n) => { layers[n] = await api('GET', doc.links[n]); }));
  const ind = await api('GET', `/plans/${id}/indicators`);
  return { id, kind: doc.kind, doc, layers, indicators: ind };
}

/* ------------------------------------------------------------------ jobs */
async function runJob(path, body, progressEl) {
  const job = await api('POST', path, { json: body });
  S.job = job.id;
  const t0 = Date.now();
  for (;;) {
    const j = await api('GET', '/jobs/' + job.id);
    const pr = j.progress || {};
    const parts = [T('app_job_status', { status: T('app_status_' + j.status) }), T('app_elapsed', { s: ((Date.now() - t0) / 1000).toFixed(1) })];
    if (pr.phase) parts.push(esc(pr.phase));
    if (pr.objective != null) parts.push(T('app_objective', { v: Number(pr.objective).toLocaleString() }));
    if (pr.bound != null) parts.push(T('app_bound', { v: Number(pr.bound).toLocaleString() }));
    if (pr.percent != null) parts.push(Math.round(pr.percent) + ' %');
    if (progressEl) progressEl.textContent = parts.join(' · ');
    if (j.status === 'done') return j;
    if (j.status === 'failed' || j.status === 'cancelled') {
      const e = j.error || {};
      throw new ApiError(e.status || 422, { detail: e.detail || j.status, errors: e.errors });
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

function indicatorTable(evaluation) {
  return `<table class="indicators"><thead><tr><th>${esc(T('col_indicator'))}</th><th>${esc(T('col_value'))}</th><th>${esc(T('col_unit'))}</th></tr></thead><tbody>` +
    evaluation.map((i) => `<tr data-key="${esc(i.key)}"><td title="${esc(i.definition[S.lang])}">${esc(i.name[S.lang])}</td><td>${fmt(i.value)}</td><td>${esc(i.unit)}</td></tr>`).join('') + '</tbody></table>';
}
function fmt(v) {
  if (v == null) return '–';
  if (typeof v === 'number') return Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : (Math.round(v * 100) / 100).toLocaleString();
  return esc(v);
}

/* ------------------------------------------------------------------ steps */
const STEPS = {};

STEPS.network = async function (panel) {
  panel.innerHTML = `<h2>${esc(T('app_step_network'))}</h2>
    <p class="hint">${esc(T('app_network_hint'))}</p>
    <label for="net-select">${esc(T('app_networks'))}</label>
    <select id="net-select"><option value="">—</option></select>
    <button type="button" id="net-sample" class="primary">${esc(T('app_use_sample'))}</button>
    <h3>${esc(T('app_upload_osm'))}</h3>
    <label for="net-file">${esc(T('app_osm_file'))}</label>
    <input id="net-file" type="file" accept=".pbf,.osm,.xml,.graphml,.bz2,.gz">
    <button type="button" id="net-upload">${esc(T('app_upload'))}</button>
    <progress id="net-progress" max="100" value="0" hidden></progress>
    <div id="net-summary"></div>
    <h3>${esc(T('app_basemap'))}</h3><p class="hint">${esc(T('app_basemap_hint'))}</p>
    <form id="tiles-form" novalidate>
    <label for="tile-url">${esc(T('app_field_tile_url'))}</label>
    <input id="tile-url" type="text" spellcheck="false" placeholder="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&amp;size=1&amp;scale=1&amp;style=8&amp;x={x}&amp;y={y}&amp;z={z}">
    <label for="tile-subdomains">${esc(T('app_field_tile_subdomains'))}</label><input id="tile-subdomains" type="text" value="1234">
    <label for="tile-datum">${esc(T('app_field_tile_datum'))}</label>
    <select id="tile-datum">${DATUMS.map((d) => `<option value="${d}">${esc(T('app_datum_' + d))}</option>`).join('')}</select>
    <label for="tile-attr">${esc(T('app_field_tile_attribution'))}</label><input id="tile-attr" type="text">
    <button type="submit" id="tile-apply">${esc(T('app_tile_apply'))}</button><button type="button" id="tile-off">${esc(T('app_tile_off'))}</button>
    </form>`;
  if (S.tiles) {
    $('#tile-url').value = S.tiles.url;
    $('#tile-subdomains').value = S.tiles.subdomains || '';
    $('#tile-datum').value = S.tiles.datum;
    $('#tile-attr').value = S.tiles.attribution || '';
  }
  $('#tiles-form').onsubmit = (e) => {
    e.preventDefault();
    guarded(async () => {
      const t = { url: $('#tile-url').value.trim(), subdomains: $('#tile-subdomains').value.trim(), datum: $('#tile-datum').value, attribution: $('#tile-attr').value.trim(), on: true };
      checkTiles(t);
      setTiles(t);
      status(T('app_tiles_on', { datum: T('app_datum_' + t.datum) }));
    });
  };
  $('#tile-off').onclick = () => guarded(async () => {
    if (S.tiles) setTiles({ ...S.tiles, on: false });
    status(T('app_tiles_off'));
  });
  const sel = $('#net-select');
  const list = await api('GET', '/networks?limit=100');
  for (const n of list.items) sel.add(new Option(`${n.name} (${n.id.slice(0, 8)})`, n.id));
  if (S.network) sel.value = S.network.id;
  sel.onchange = () => guarded(async () => { if (sel.value) await useNetwork(await api('GET', '/networks/' + sel.value)); });
  $('#net-sample').onclick = () => guarded(async () => {
    status(T('app_loading_network'));
    const n = await api('POST', '/networks', { json: { sample: 'helsinki', name: 'Helsinki (sample)' } });
    sel.add(new Option(`${n.name} (${n.id.slice(0, 8)})`, n.id));
    sel.value = n.id;
    await useNetwork(n);
  });
  $('#net-upload').onclick = () => {
    const file = $('#net-file').files[0];
    if (!file) { status(T('app_err_field', { field: T('app_osm_file'), message: T('app_choose_file') }), true); return; }
    const form = new FormData();
    form.append('file', file);
    form.append('name', file.name);
    const xhr = new XMLHttpRequest();
    const bar = $('#net-progress');
    bar.hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => guarded(async () => {
      bar.hidden = true;
      const data = JSON.parse(xhr.responseText || '{}');
      if (xhr.status >= 400) throw new ApiError(xhr.status, data);
      sel.add(new Option(`${data.name} (${data.id.slice(0, 8)})`, data.id));
      sel.value = data.id;
      await useNetwork(data);
    });
    xhr.onerror = () => status(T('app_err_network', { message: 'upload' }), true);
    xhr.open('POST', '/networks');
    xhr.setRequestHeader('X-API-Key', S.key);
    xhr.send(form);
    status(T('app_uploading'));
  };
  if (S.network) showNetwork();
};

async function useNetwork(n) {
  S.network = n;
  showNetwork();
  await drawRoads(maps.a, n.id);
  status(T('app_network_ready', { name: n.name }));
}
function showNetwork() {
  const el = $('#net-summary');
  if (!el || !S.network) return;
  const info = S.network.info || {};
  const rows = Object.entries(info).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `<tr><th>${esc(k)}</th><td>${fmt(v)}</td></tr>`).join('');
  el.innerHTML = `<h3>${esc(S.network.name)}</h3><div class="scroll short"><table id="net-info">${rows}</table></div>`;
}

const KINDS = ['orders', 'depots', 'fleet', 'demand', 'sites', 'centres', 'zones'];
STEPS.data = async function (panel) {
  panel.innerHTML = `<h2>${esc(T('app_step_data'))}</h2>
    <p class="hint">${esc(T('app_data_hint'))}</p>
    <label for="data-kind">${esc(T('app_table_kind'))}</label>
    <select id="data-kind">${KINDS.map((k) => `<option value="${k}">${esc(T('app_kind_' + k))}</option>`).join('')}</select>
    <label for="data-file">${esc(T('app_file'))}</label>
    <input id="data-file" type="file" accept=".xlsx,.xlsm,.xls,.csv,.txt,.tsv,.gpkg,.geojson,.json,.zip,.kml">
    <button type="button" id="data-upload" class="primary">${esc(T('app_check_file'))}</button>
    <div id="data-loaded"></div>
    <div id="data-result"></div>`;
  showLoaded();
  $('#data-upload').onclick = () => guarded(async () => {
    const file = $('#data-file').files[0];
    if (!file) { status(T('app_err_field', { field: T('app_file'), message: T('app_choose_file') }), true); return; }
    S.checkFile = file;
    await checkUpload($('#data-kind').value, file, null);
  });
  if (S.check) showCheck();
};

function showLoaded() {
  const el = $('#data-loaded');
  if (!el) return;
  const parts = Object.entries(S.data).map(([k, v]) => `<li>${esc(T('app_kind_' + k))}: <b data-kind="${k}">${v.count}</b> (${esc(v.source)})</li>`);
  el.innerHTML = parts.length ? `<h3>${esc(T('app_loaded'))}</h3><ul id="loaded-list">${parts.join('')}</ul>` : '';
}

async function checkUpload(kind, file, mapping) {
  if ($('#data-result')) $('#data-result').innerHTML = '';
  const form = new FormData();
  form.append('file', file, file.name);
  if (mapping) form.append('mapping', JSON.stringify(mapping));
  const q = new URLSearchParams({ kind });
  if (S.network && kind !== 'fleet' && kind !== 'zones') q.set('network_id', S.network.id);
  status(T('app_checking', { file: file.name }));
  const res = await api('POST', '/uploads?' + q, { form });
  S.check = res;
  const good = kind === 'fleet' ? res.records.length : res.features.features.length;
  if (good > 0 && !res.needs_mapping) {
    S.data[kind] = { features: res.features, records: res.records, count: good, source: res.source };
  }
  showCheck();
  showLoaded();
  if (res.ok) status(T('app_check_ok', { n: good, file: res.source }));
  else status(T('app_check_issues', { n: res.issues.length, good, file: res.source }), true);
}

function issueText(i) {
  const where = i.line != null ? T('app_row', { line: i.line }) + ' · ' : '';
  const fields = String(i.field).split(',').map(fieldName).join(', ');
  return `${where}<b>${esc(T('app_field'))}: ${esc(fields)}</b> — ${esc(T('app_issue_' + i.code))}<br><small>${esc(i.message)}</small><span class="fix">${esc(T('app_fix'))}: ${esc(T('app_fix_' + i.code))}</span>`;
}

function showCheck() {
  const el = $('#data-result');
  const res = S.check;
  if (!el || !res) return;
  let html = `<h3>${esc(res.source)} · ${esc(T('app_kind_' + res.kind))}</h3>`;
  if (res.needs_mapping) {
    html += `<p class="issues" id="mapping-note">${esc(T('app_mapping_hint', { fields: res.missing.map(fieldName).join(', ') }))}</p><form id="mapping">` +
      [...res.missing, ...res.optional.filter((o) => !res.matched[o])].filter((f) => f !== 'geometry').map((f) => `<label for="map-${f}">${esc(fieldName(f))}${res.missing.includes(f) ? ' *' : ''}</label>
        <select id="map-${f}" data-field="${f}"><option value="">—</option>${res.columns.map((c) => `<option>${esc(c)}</option>`).join('')}</select>`).join('') +
      `<button type="submit" class="primary" id="mapping-apply">${esc(T('app_apply_mapping'))}</button></form>`;
  }
  const issues = res.issues.filter((i) => i.code !== 'missing_columns' || !res.needs_mapping);
  if (issues.length) html += `<ul class="issues" id="issues">${issues.map((i) => `<li data-line="${i.line ?? ''}" data-code="${i.code}">${issueText(i)}</li>`).join('')}</ul>`;
  if (res.rows.length) {
    const cols = res.columns.slice(0, 8);
    const byLine = {};
    for (const i of res.issues) if (i.line != null) (byLine[i.line] = byLine[i.line] || []).push(i);
    html += `<div class="scroll"><table id="preview"><thead><tr><th>${esc(T('app_line'))}</th>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}<th>${esc(T('app_problem'))}</th></tr></thead><tbody>` +
      res.rows.slice(0, 300).map((r) => {
        const iss = byLine[r._line] || [];
        return `<tr class="${iss.length ? 'bad' : ''}" data-line="${r._line}"><td>${r._line}</td>${cols.map((c) => `<td>${esc(r[c])}</td>`).join('')}<td class="issue">${iss.map((i) => esc(fieldName(String(i.field).split(',')[0])) + ': ' + esc(T('app_issue_' + i.code)) + ' → ' + esc(T('app_fix_' + i.code))).join('<br>')}</td></tr>`;
      }).join('') + '</tbody></table></div>';
  }
  el.innerHTML = html;
  const form = $('#mapping');
  if (form) {
    form.onsubmit = (e) => {
      e.preventDefault();
      const mapping = {};
      for (const s of $$('select', form)) if (s.value) mapping[s.dataset.field] = s.value;
      guarded(() => checkUpload(res.kind, S.checkFile, mapping));
    };
  }
  paintOverlay(maps.a, (refit) => {
    if (res.kind === 'fleet' || !res.features.features.length) return;
    const layer = pointLayer(shown(res.features), '#1f77b4', (f) => `<b>${esc(f.id)}</b><br>${esc(T('app_line'))} ${esc(f.properties._line)}`);
    layer.addTo(maps.a.overlay);
    setCount(maps.a, 'preview', res.features.features.length);
    if (refit) fitTo(maps.a, layer);
  });
}

const MODELS = ['min_stations', 'p_median', 'max_coverage', 'cflp'];
STEPS.siting = async function (panel) {
  const has = (k) => (S.data[k] ? T('app_from_upload', { n: S.data[k].count }) : T('app_from_osm'));
  panel.innerHTML = `<h2>${esc(T('app_step_siting'))}</h2>
    <p class="hint">${esc(T('app_demand'))}: ${esc(has('demand'))} · ${esc(T('app_sites'))}: ${esc(has('sites'))}</p>
    <form id="siting-form" novalidate>
    <label for="s-model">${esc(T('app_field_model'))}</label>
    <select id="s-model">${MODELS.map((m) => `<option value="${m}">${esc(T('app_model_' + m))}</option>`).join('')}</select>
    <label for="s-radius">${esc(T('app_field_radius'))}</label><input id="s-radius" type="number" min="1" value="500">
    <label for="s-p">${esc(T('app_field_p'))}</label><input id="s-p" type="number" min="1" value="3">
    <label for="s-hh">${esc(T('app_field_households_per_station'))}</label><input id="s-hh" type="number" min="1" value="2000">
    <label for="s-budget">${esc(T('app_field_budget'))}</label><input id="s-budget" type="number" min="0" placeholder="${esc(T('app_no_budget'))}">
    <label><input id="s-keep" type="checkbox" checked> ${esc(T('app_keep_existing'))}</label>
    <label for="s-time">${esc(T('app_field_time_limit_s'))}</label><input id="s-time" type="number" min="1" value="10">
    <label for="s-name">${esc(T('app_scenario_name'))}</label><input id="s-name" type="text" maxlength="200">
    <label for="s-tags">${esc(T('app_tags'))}</label><input id="s-tags" type="text" placeholder="${esc(T('app_tags_hint'))}">
    <button type="submit" class="primary" id="s-run">${esc(T('app_run'))}</button>
    </form>
    <p id="s-progress" role="status" aria-live="polite"></p>
    <div id="s-result"></div>`;
  const model = $('#s-model');
  const sync = () => {
    const m = model.value;
    $('#s-p').disabled = !(m === 'p_median' || m === 'max_coverage');
    $('#s-radius').disabled = m === 'p_median' || m === 'cflp';
  };
  model.onchange = sync;
  sync();
  $('#siting-form').onsubmit = (e) => { e.preventDefault(); guarded(runSiting); };
  if (S.siting) showSiting();
};

function strip(fc) {
  return { type: 'FeatureCollection', features: fc.features.map((f) => { const p = { ...f.properties }; delete p._line; return { ...f, properties: p }; }) };
}

async function runSiting() {
  if (!S.network) { status(T('app_err_field', { field: T('app_step_network'), message: T('app_need_network') }), true); return; }
  const m = $('#s-model').value;
  const body = { network_id: S.network.id, model: m, time_limit_s: Number($('#s-time').value) || 10, households_per_station: Number($('#s-hh').value) || 2000, keep_existing: $('#s-keep').checked ? 'all' : 'allow_closing', uncoverable: 'leave' };
  if (!$('#s-p').disabled) body.p = Number($('#s-p').value);
  if (!$('#s-radius').disabled) body.radius = Number($('#s-radius').value);
  if ($('#s-budget').value) body.budget = Number($('#s-budget').value);
  if (S.data.demand) body.demand = strip(S.data.demand.features);
  if (S.data.sites) body.sites = strip(S.data.sites.features);
  if (S.data.centres) body.centres = strip(S.data.centres.features);
  Object.assign(body, labelsOf('s'));
  $('#s-run').disabled = true;
  try {
    const job = await runJob('/siting', body, $('#s-progress'));
    S.siting = await loadPlan(job.plan_id);
    S.plan = S.siting;
    showSiting();
    status(T('app_siting_done', { n: maps.a.counts.stations }));
  } finally { $('#s-run').disabled = false; }
}

function showSiting() {
  drawPlan(maps.a, S.siting);
  const ind = S.siting.indicators.indicators || {};
  const el = $('#s-result');
  if (!el) return;
  el.innerHTML = `<h3>${esc(Plans.nameOf(S.siting.id) || S.siting.id)}</h3>
    <span class="kpi">${esc(T('stations'))}: <b id="n-stations">${maps.a.counts.stations}</b></span>
    <span class="kpi">${esc(T('app_status'))}: <b>${esc(ind.status || '')}</b></span>` + indicatorTable(S.siting.indicators.evaluation);
}

STEPS.routing = async function (panel) {
  const n = (k) => (S.data[k] ? S.data[k].count : 0);
  panel.innerHTML = `<h2>${esc(T('app_step_routing'))}</h2>
    <p class="hint">${esc(T('app_kind_orders'))}: <b id="r-orders">${n('orders')}</b> · ${esc(T('app_kind_depots'))}: ${n('depots')} · ${esc(T('app_kind_fleet'))}: ${S.data.fleet ? n('fleet') : esc(T('app_default_fleet'))}</p>
    <form id="routing-form" novalidate>
    <label for="r-engine">${esc(T('app_field_engine'))}</label>
    <select id="r-engine"><option value="auto">auto</option><option value="ortools">OR-Tools</option><option value="pyvrp">PyVRP</option></select>
    <label for="r-time">${esc(T('app_field_time_limit_s'))}</label><input id="r-time" type="number" min="1" value="5">
    <label for="r-name">${esc(T('app_scenario_name'))}</label><input id="r-name" type="text" maxlength="200">
    <label for="r-tags">${esc(T('app_tags'))}</label><input id="r-tags" type="text" placeholder="${esc(T('app_tags_hint'))}">
    <button type="submit" class="primary" id="r-run">${esc(T('app_run'))}</button>
    </form>
    <p id="r-progress" role="status" aria-live="polite"></p>
    <div id="r-result"></div>`;
  $('#routing-form').onsubmit = (e) => { e.preventDefault(); guarded(() => runRouting(null)); };
  if (S.routing) showRouting();
};

function routingBody() {
  if (!S.network) throw new ApiError(422, { errors: [{ field: 'body.network_id', message: T('app_need_network') }] });
  if (!S.data.orders) throw new ApiError(422, { errors: [{ field: 'body.orders', message: T('app_need_upload') }] });
  if (!S.data.depots) throw new ApiError(422, { errors: [{ field: 'body.depots', message: T('app_need_upload') }] });
  const sites = strip(S.data.depots.features).features;
  const depots = sites.filter((f) => (f.properties.kind || 'depot') === 'depot');
  const facilities = sites.filter((f) => f.properties.kind === 'facility');
  const body = {
    network_id: S.network.id,
    orders: strip(S.data.orders.features),
    depots: { type: 'FeatureCollection', features: depots },
    engine: ($('#r-engine') || { value: 'auto' }).value,
    time_limit_s: Number(($('#r-time') || { value: 5 }).value) || 5,
  };
  if (facilities.length) body.facilities = { type: 'FeatureCollection', features: facilities };
  if (S.data.fleet) body.fleet = S.data.fleet.records;
  return body;
}

async function runRouting(replan) {
  const body = routingBody();
  if (replan) { body.replan = replan; if (body.engine === 'pyvrp') body.engine = 'ortools'; }
  Object.assign(body, labelsOf('r'));
  $('#r-run').disabled = true;
  try {
    const job = await runJob('/routing', body, $('#r-progress'));
    S.routing = await loadPlan(job.plan_id);
    S.plan = S.routing;
    showRouting();
    status(T('app_routing_done', { n: maps.a.counts.routes, u: maps.a.counts.unserved }));
  } finally { $('#r-run').disabled = false; }
}

function clock(s) { const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60); return String(h).padStart(2, '0') + ':' + String(m).padStart(2, '0'); }

function showRouting() {
  drawPlan(maps.a, S.routing);
  const el = $('#r-result');
  if (!el) return;
  const stops = S.routing.layers.stops ? S.routing.layers.stops.features : [];
  const byVehicle = {};
  for (const f of stops) if (f.properties.kind !== 'unserved') (byVehicle[f.properties.vehicle_id] = byVehicle[f.properties.vehicle_id] || []).push(f.properties);
  const unserved = stops.filter((f) => f.properties.kind === 'unserved').map((f) => f.properties);
  let html = `<h3>${esc(Plans.nameOf(S.routing.id) || S.routing.id)}</h3>
    <span class="kpi">${esc(T('route'))}: <b id="n-routes">${maps.a.counts.routes}</b></span>
    <span class="kpi">${esc(T('unserved'))}: <b id="n-unserved">${unserved.length}</b></span>`;
  for (const [v, list] of Object.entries(byVehicle)) {
    list.sort((a, b) => a.sequence - b.sequence);
    html += `<h3>${esc(T('vehicle'))} ${esc(v)}</h3><table class="vehicle" data-vehicle="${esc(v)}"><thead><tr><th>#</th><th>${esc(T('stop'))}</th><th>${esc(T('arrival'))}</th><th>${esc(T('app_departure'))}</th><th>${esc(T('load'))}</th><th>${esc(T('app_done'))}</th></tr></thead><tbody>` +
      list.map((p) => `<tr><td>${p.sequence}</td><td>${esc(p.order_id || p.location_id)}${p.kind === 'unload' ? ' (' + esc(T('unload_stop')) + ')' : ''}</td><td>${esc(p.arrival || '')}</td><td>${esc(p.departure || '')}</td><td>${fmt(p.load_kg)}</td><td>${p.kind === 'order' ? `<input type="checkbox" class="done" value="${esc(p.order_id)}" aria-label="${esc(T('app_done'))} ${esc(p.order_id)}">` : ''}</td></tr>`).join('') + '</tbody></table>';
  }
  if (unserved.length) {
    html += `<h3>${esc(T('unserved'))}</h3><table id="unserved"><thead><tr><th>${esc(T('order'))}</th><th>${esc(T('reason'))}</th></tr></thead><tbody>` +
      unserved.map((p) => `<tr><td>${esc(p.order_id)}</td><td>${esc(T('reason_' + p.reason))}<br><small>${esc(p.message || '')}</small></td></tr>`).join('') + '</tbody></table>';
  }
  const orderIds = stops.filter((f) => f.properties.kind === 'order').map((f) => f.properties.order_id);
  html += `<h3>${esc(T('app_replan'))}</h3><p class="hint">${esc(T('app_replan_hint'))}</p>
    <label for="rp-now">${esc(T('app_field_now_s'))}</label><input id="rp-now" type="text" value="11:00" pattern="\\d{1,2}:\\d{2}">
    <label for="rp-cancel">${esc(T('app_field_cancelled_order_ids'))}</label>
    <select id="rp-cancel" multiple size="4">${orderIds.map((o) => `<option>${esc(o)}</option>`).join('')}</select>
    <button type="button" id="rp-run">${esc(T('app_replan'))}</button>`;
  html += indicatorTable(S.routing.indicators.evaluation);
  el.innerHTML = html;
  $('#rp-run').onclick = () => guarded(async () => {
    const [h, m] = $('#rp-now').value.split(':').map(Number);
    if (!Number.isFinite(h) || !Number.isFinite(m)) throw new ApiError(422, { errors: [{ field: 'body.replan.now_s', message: 'HH:MM' }] });
    await runRouting({
      plan_id: S.routing.id, now_s: h * 3600 + m * 60,
      done_order_ids: $$('input.done:checked').map((c) => c.value),
      cancelled_order_ids: Array.from($('#rp-cancel').selectedOptions).map((o) => o.value),
    });
  });
}

STEPS.scenarios = async function (panel) {
  panel.innerHTML = `<h2>${esc(T('app_step_scenarios'))}</h2><p class="hint">${esc(T('app_scenarios_hint'))}</p>
    <button type="button" id="compare-btn" class="primary" disabled>${esc(T('app_compare'))}</button>
    <div id="compare-result"></div>
    <div id="plan-list">…</div>`;
  const items = await Plans.list();
  $('#plan-list').innerHTML = items.length ? `<table id="plans"><thead><tr><th>${esc(T('app_compare_short'))}</th><th>${esc(T('app_scenario_name'))} / ${esc(T('app_tags'))}</th><th>${esc(T('app_kind'))}</th><th></th></tr></thead><tbody>` +
    items.map((p) => `<tr data-plan="${esc(p.id)}"><td><input type="checkbox" class="cmp" value="${esc(p.id)}" aria-label="${esc(T('app_compare'))} ${esc(p.name || p.id)}"></td>
      <td><input type="text" class="pname" value="${esc(p.name)}" placeholder="${esc(p.id.slice(0, 8))}" aria-label="${esc(T('app_scenario_name'))}">
      <input type="text" class="ptags" value="${esc((p.tags || []).join(', '))}" placeholder="${esc(T('app_tags'))}" aria-label="${esc(T('app_tags'))}">
      <small>${esc(new Date(p.created_at).toLocaleString(S.lang === 'zh' ? 'zh-CN' : 'en-GB'))}</small></td>
      <td>${esc(T('app_kind_plan_' + p.kind))}</td>
      <td><button type="button" class="psave">${esc(T('app_save'))}</button><button type="button" class="popen">${esc(T('app_open'))}</button><button type="button" class="pdel">${esc(T('app_delete'))}</button></td></tr>`).join('') + '</tbody></table>'
    : `<p>${esc(T('app_no_plans'))}</p>`;
  for (const tr of $$('#plans tbody tr')) {
    const id = tr.dataset.plan;
    $('.psave', tr).onclick = () => guarded(async () => {
      const tags = $('.ptags', tr).value.split(',').map((t) => t.trim()).filter(Boolean);
      await Plans.rename(id, $('.pname', tr).value.trim(), tags);
      status(T('app_saved'));
    });
    $('.popen', tr).onclick = () => guarded(async () => {
      const plan = await loadPlan(id);
      S.plan = plan;
      if (plan.kind === 'siting') S.siting = plan; else S.routing = plan;
      await show(plan.kind);
    });
    $('.pdel', tr).onclick = () => guarded(async () => {
      if (!confirm(T('app_confirm_delete'))) return;
      await Plans.remove(id);
      await show('scenarios');
      status(T('app_deleted'));
    });
  }
  const boxes = $$('input.cmp');
  const upd = () => { $('#compare-btn').disabled = boxes.filter((b) => b.checked).length !== 2; };
  boxes.forEach((b) => { b.onchange = upd; });
  $('#compare-btn').onclick = () => guarded(async () => {
    const created = Object.fromEntries(items.map((p) => [p.id, p.created_at]));
    const [a, b] = boxes.filter((x) => x.checked).map((x) => x.value)
      .sort((x, y) => String(created[x]).localeCompare(String(created[y])));  // A: the older
    await compare(a, b);
  });
};

function syncMaps(a, b) {
  let busy = false;
  const link = (src, dst) => src.on('move', () => { if (busy) return; busy = true; dst.setView(src.getCenter(), src.getZoom(), { animate: false }); busy = false; });
  link(a, b);
  link(b, a);
}

async function compare(idA, idB) {
  const [pa, pb] = await Promise.all([loadPlan(idA), loadPlan(idB)]);
  $('#map2').hidden = false;
  if (!maps.b) { maps.b = makeMap('map2'); syncMaps(maps.a.map, maps.b.map); applyBaseMap(); }
  maps.a.map.invalidateSize();
  maps.b.map.invalidateSize();
  paintRoads(maps.b);
  drawPlan(maps.b, pb);
  drawPlan(maps.a, pa);
  S.compare = { a: pa, b: pb };
  const bIdx = Object.fromEntries(pb.indicators.evaluation.map((i) => [i.key, i]));
  const nameA = Plans.nameOf(idA) || idA.slice(0, 8), nameB = Plans.nameOf(idB) || idB.slice(0, 8);
  const rows = pa.indicators.evaluation.filter((i) => bIdx[i.key]).map((i) => {
    const va = i.value, vb = bIdx[i.key].value;
    const d = typeof va === 'number' && typeof vb === 'number' ? vb - va : null;
    const cls = d == null || d === 0 ? '' : d > 0 ? 'diff-pos' : 'diff-neg';
    return `<tr data-key="${esc(i.key)}"><td>${esc(i.name[S.lang])}</td><td>${fmt(va)}</td><td>${fmt(vb)}</td><td class="diff ${cls}">${d == null ? '–' : (d > 0 ? '+' : '') + fmt(d)}</td><td>${esc(i.unit)}</td></tr>`;
  });
  $('#compare-result').innerHTML = `<h3>${esc(T('app_comparison'))}</h3><p class="hint">${esc(T('app_compare_maps', { a: nameA, b: nameB }))}</p>
    <table id="compare-table"><thead><tr><th>${esc(T('col_indicator'))}</th><th>A: ${esc(nameA)}</th><th>B: ${esc(nameB)}</th><th>${esc(T('col_abs_diff'))} (B−A)</th><th>${esc(T('col_unit'))}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  status(T('app_compared'));
}

STEPS.export = async function (panel) {
  const items = await Plans.list();
  panel.innerHTML = `<h2>${esc(T('app_step_export'))}</h2><p class="hint">${esc(T('app_export_hint'))}</p>
    <label for="x-plan">${esc(T('app_plan'))}</label>
    <select id="x-plan">${items.map((p) => `<option value="${esc(p.id)}" data-kind="${p.kind}">${esc(p.name || p.id.slice(0, 8))} · ${esc(T('app_kind_plan_' + p.kind))}</option>`).join('')}</select>
    <h3>${esc(T('app_files'))}</h3>
    <button type="button" data-f="gpkg" id="x-gpkg">GeoPackage</button><button type="button" data-f="xlsx" id="x-xlsx">Excel</button><button type="button" data-f="csv" id="x-csv">CSV (zip)</button><button type="button" data-f="shp" id="x-shp">Shapefile (zip)</button>
    <h3>GeoJSON</h3><div id="x-layers"></div>
    <h3>${esc(T('app_report'))}</h3><p class="hint">${esc(T('app_report_hint'))}</p>
    <button type="button" data-report="html" id="x-report-html">${esc(T('app_report_html'))}</button><button type="button" data-report="md" id="x-report-md">${esc(T('app_report_md'))}</button><button type="button" data-report="png" id="x-report-png">${esc(T('app_report_png'))}</button><button type="button" id="x-map">${esc(T('app_map_page'))}</button>`;
  const sel = $('#x-plan');
  if (S.plan) sel.value = S.plan.id;
  const layers = () => {
    const opt = sel.selectedOptions[0];
    if (!opt) return;
    const names = opt.dataset.kind === 'siting' ? ['stations', 'assignments', 'coverage'] : ['routes', 'stops'];
    $('#x-layers').innerHTML = names.map((n) => `<button type="button" data-layer="${n}">${esc(T(n === 'routes' ? 'route' : n === 'stops' ? 'stop' : n))} (${n}.geojson)</button>`).join('');
    for (const b of $$('#x-layers button')) b.onclick = () => guarded(() => download(`/plans/${sel.value}/${b.dataset.layer}.geojson`, `${sel.value}-${b.dataset.layer}.geojson`));
  };
  sel.onchange = layers;
  layers();
  for (const b of $$('button[data-f]')) {
    const ext = { gpkg: 'gpkg', xlsx: 'xlsx', csv: 'csv.zip', shp: 'shp.zip' }[b.dataset.f];
    b.onclick = () => guarded(() => download(`/plans/${sel.value}/export?f=${b.dataset.f}&lang=${S.lang}`, `${sel.value}.${ext}`));
  }
  for (const b of $$('button[data-report]')) {
    const f = b.dataset.report;
    b.onclick = () => guarded(async () => {
      const file = f === 'png' ? `${sel.value}-map-${S.lang}.png` : `${sel.value}-report-${S.lang}.${f}`;
      status(T('app_making_report'));
      await download(`/plans/${sel.value}/report?f=${f}&lang=${S.lang}`, file);
    });
  }
  $('#x-map').onclick = () => guarded(() => download(`/map?plan=${sel.value}&lang=${S.lang}`, `${sel.value}-map.html`));
};

STEPS.actuals = async function (panel) {
  const items = (await Plans.list());
  const today = new Date();
  const start = new Date(today.getFullYear(), today.getMonth() - 1, 1).toISOString().slice(0, 10);
  panel.innerHTML = `<h2>${esc(T('app_step_actuals'))}</h2><p class="hint">${esc(T('app_actuals_hint'))}</p>
    <label for="a-file">${esc(T('app_records_file'))}</label><input id="a-file" type="file" accept=".csv,.txt,.xlsx,.xls">
    <button type="button" id="a-upload">${esc(T('app_upload'))}</button><div id="a-check"></div>
    <form id="a-form" novalidate>
    <label for="a-plan">${esc(T('app_plan'))}</label>
    <select id="a-plan">${items.map((p) => `<option value="${esc(p.id)}">${esc(p.name || p.id.slice(0, 8))} · ${esc(T('app_kind_plan_' + p.kind))}</option>`).join('')}</select>
    <label for="a-from">${esc(T('app_field_from'))}</label><input id="a-from" type="date" value="${start}">
    <label for="a-to">${esc(T('app_field_to'))}</label><input id="a-to" type="date" value="${today.toISOString().slice(0, 10)}">
    <label for="a-bucket">${esc(T('app_field_bucket'))}</label>
    <select id="a-bucket">${['day', 'week', 'month'].map((b) => `<option value="${b}"${b === 'week' ? ' selected' : ''}>${esc(T('app_bucket_' + b))}</option>`).join('')}</select>
    <button type="submit" id="a-run" class="primary">${esc(T('app_compare_actuals'))}</button>
    </form>
    <div id="a-result"></div>`;
  if (S.actuals) {
    $('#a-plan').value = S.actuals.planId;
    $('#a-from').value = S.actuals.from;
    $('#a-to').value = S.actuals.to;
    $('#a-bucket').value = S.actuals.bucket;
  } else if (S.plan) $('#a-plan').value = S.plan.id;
  $('#a-upload').onclick = () => guarded(async () => {
    const file = $('#a-file').files[0];
    if (!file) { status(T('app_err_field', { field: T('app_records_file'), message: T('app_choose_file') }), true); return; }
    const form = new FormData();
    form.append('file', file, file.name);
    const res = await api('POST', '/uploads?kind=records', { form });
    $('#a-check').innerHTML = res.issues.length ? `<ul class="issues" id="issues">${res.issues.map((i) => `<li data-line="${i.line ?? ''}" data-code="${i.code}">${issueText(i)}</li>`).join('')}</ul>` : '';
    let added = 0, dup = 0;
    for (let k = 0; k < res.records.length; k += 5000) {
      const r = await api('POST', '/records', { json: { records: res.records.slice(k, k + 5000) } });
      added += r.added.length;
      dup += r.duplicates.length;
    }
    status(T('app_records_added', { n: added, d: dup }), res.issues.length > 0);
  });
  $('#a-form').onsubmit = (e) => {
    e.preventDefault();
    guarded(async () => {
      const q = { planId: $('#a-plan').value, from: $('#a-from').value, to: $('#a-to').value, bucket: $('#a-bucket').value };
      if (!q.planId) throw new ApiError(422, { errors: [{ field: 'query.plan', message: T('app_no_plans') }] });
      const params = new URLSearchParams({ from: q.from, to: q.to, bucket: q.bucket });
      S.actuals = { ...q, result: await api('GET', `/plans/${q.planId}/actuals?${params}`) };
      showActuals();
    });
  };
  if (S.actuals && S.actuals.result) showActuals();
};

/* A grouped bar chart (expected and collected kg per key) as SVG, with its numbers in tooltips. */
function barChart(id, title, rows) {
  const W = 400, H = 180, left = 52, bottom = 36, top = 22;
  const max = Math.max(1, ...rows.map((r) => Math.max(r.expected_kg || 0, r.collected_kg || 0)));
  const slot = (W - left - 4) / Math.max(1, rows.length);
  const bw = Math.max(2, Math.min(16, slot * 0.4));
  const y = (v) => top + (H - top - bottom) * (1 - (v || 0) / max);
  const every = Math.max(1, Math.ceil(rows.length / 8));
  const bars = rows.map((r, i) => {
    const x = left + i * slot + slot / 2;
    const label = i % every === 0 ? `<text x="${x}" y="${H - bottom + 13}" text-anchor="middle" font-size="9">${esc(String(r.key).replace(/^\d{4}-/, ''))}</text>` : '';
    return `<g class="bar-group" data-key="${esc(r.key)}">` +
      `<rect class="bar-expected" x="${x - bw}" y="${y(r.expected_kg)}" width="${bw}" height="${y(0) - y(r.expected_kg)}" fill="#9ecae1"><title>${esc(r.key)} · ${esc(T('chart_expected'))}: ${fmt(r.expected_kg)} kg</title></rect>` +
      `<rect class="bar-collected" x="${x}" y="${y(r.collected_kg)}" width="${bw}" height="${y(0) - y(r.collected_kg)}" fill="#1f5130"><title>${esc(r.key)} · ${esc(T('chart_collected'))}: ${fmt(r.collected_kg)} kg</title></rect>${label}</g>`;
  }).join('');
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg id="${id}" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">
    <line x1="${left}" y1="${y(0)}" x2="${W - 2}" y2="${y(0)}" stroke="#555"/><line x1="${left}" y1="${top}" x2="${left}" y2="${y(0)}" stroke="#555"/>
    <text x="${left - 4}" y="${y(max) + 4}" text-anchor="end" font-size="9">${fmt(max)}</text><text x="${left - 4}" y="${y(0)}" text-anchor="end" font-size="9">0</text>
    <text x="4" y="12" font-size="9">${esc(T('chart_kg'))}</text>
    <rect x="${W - 170}" y="4" width="10" height="10" fill="#9ecae1"/><text x="${W - 156}" y="13" font-size="10">${esc(T('chart_expected'))}</text>
    <rect x="${W - 84}" y="4" width="10" height="10" fill="#1f5130"/><text x="${W - 70}" y="13" font-size="10">${esc(T('chart_collected'))}</text>
    ${bars}</svg></figure>`;
}

/* The service's period rows are per period and material ("2023-03-06|scrap_metal"): summed per period. */
function byPeriod(rows) {
  const out = new Map();
  for (const r of rows) {
    const key = String(r.key).split('|')[0];
    const acc = out.get(key) || { key, expected_kg: 0, collected_kg: 0 };
    acc.expected_kg += r.expected_kg || 0;
    acc.collected_kg += r.collected_kg || 0;
    out.set(key, acc);
  }
  return [...out.values()];
}

function showActuals() {
  const el = $('#a-result');
  const r = S.actuals && S.actuals.result;
  if (!el || !r) return;
  const a = r.actuals;
  el.innerHTML = `<span class="kpi">${esc(T('chart_expected'))}: <b id="a-expected">${fmt(a.expected_kg)}</b> kg</span><span class="kpi">${esc(T('chart_collected'))}: <b id="a-collected">${fmt(a.collected_kg)}</b> kg</span><span class="kpi">${esc(T('actuals_records'))}: <b id="a-records">${a.records_counted}</b></span>` +
    barChart('a-chart-periods', T('app_chart_periods', { bucket: T('app_bucket_' + a.bucket) }), byPeriod(a.periods)) +
    (a.stations.length ? barChart('a-chart-stations', T('app_chart_stations'), a.stations) : '') +
    `<h3>${esc(T('actuals_stations'))}</h3><table id="a-stations"><thead><tr><th>${esc(T('col_station'))}</th><th>${esc(T('col_expected_kg'))}</th><th>${esc(T('col_collected_kg'))}</th><th>${esc(T('col_achievement'))}</th></tr></thead><tbody>` +
    a.stations.map((s) => `<tr data-station="${esc(s.key)}" data-flag="${esc(s.flag)}"><td>${esc(s.key)}</td><td>${fmt(s.expected_kg)}</td><td>${fmt(s.collected_kg)}</td><td>${s.achievement_pct == null ? '–' : fmt(s.achievement_pct) + ' %'} · ${esc(T('flag_' + s.flag))}</td></tr>`).join('') + '</tbody></table>';
  paintOverlay(maps.a, (refit) => {
    maps.a.counts = {};
    if (!r.stations) return;
    const layer = L.geoJSON(shown(r.stations), {
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 9, fillOpacity: 0.9, color: '#333', weight: 1, fillColor: f.properties.colour || '#1f77b4', className: 'rn-actual' }),
      onEachFeature: (f, l) => l.bindPopup(`<b>${esc(f.id)}</b><br>${esc(T('chart_expected'))}: ${fmt(f.properties.expected_kg)} kg<br>${esc(T('chart_collected'))}: ${fmt(f.properties.collected_kg)} kg<br>${fmt(f.properties.achievement_pct)} % · ${esc(T('flag_' + f.properties.flag))}`),
    }).addTo(maps.a.overlay);
    setCount(maps.a, 'actuals', r.stations.features.length);
    const flags = [...new Set(r.stations.features.map((f) => f.properties.flag))];
    const colour = Object.fromEntries(r.stations.features.map((f) => [f.properties.flag, f.properties.colour]));
    legend(flags.map((fl) => [colour[fl], 'flag_' + fl]));
    if (refit) fitTo(maps.a, layer);
  });
}

/* ------------------------------------------------------------------ shell */
function translateStatic() {
  document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of $$('[data-t]')) el.textContent = T(el.dataset.t);
  document.title = 'recyclenet · ' + T('app_workspace');
}

async function show(step) {
  S.step = step;
  for (const b of $$('#steps button')) {
    const on = b.dataset.step === step;
    b.setAttribute('aria-selected', on ? 'true' : 'false');
    b.tabIndex = on ? 0 : -1;
  }
  if (step !== 'scenarios' && maps.b) { $('#map2').hidden = true; maps.a.map.invalidateSize(); }
  const panel = $('#panel');
  panel.dataset.step = step;
  if (!S.key) { panel.innerHTML = `<h2>${esc(T('app_welcome'))}</h2><p>${esc(T('app_signin_hint'))}</p>`; return; }
  await guarded(() => STEPS[step](panel));
  if (step === 'siting' && S.siting) drawPlan(maps.a, S.siting);
  if (step === 'routing' && S.routing) drawPlan(maps.a, S.routing);
}

async function signIn(key) {
  S.key = key;
  try {
    await api('GET', '/networks?limit=1');
  } catch (err) {
    S.key = '';
    sessionStorage.removeItem('rn_key');
    status(describeError(err), true);
    return false;
  }
  sessionStorage.setItem('rn_key', key);
  loadTiles();
  applyBaseMap();
  $('#signin').hidden = true;
  $('#signout').hidden = false;
  status(T('app_signed_in'));
  return true;
}

async function main() {
  S.labels = await (await fetch('/app/labels.json')).json();
  $('#lang').value = S.lang;
  translateStatic();
  maps.a = makeMap('map');
  $('#lang').onchange = () => {
    S.lang = $('#lang').value;
    localStorage.setItem('rn_lang', S.lang);
    translateStatic();
    for (const mp of Object.values(maps)) mp.datumControl.update();
    show(S.step);
  };
  $('#signin').onsubmit = async (e) => { e.preventDefault(); if (await signIn($('#apikey').value.trim())) { $('#apikey').value = ''; show('network'); } };
  $('#signout').onclick = () => { sessionStorage.removeItem('rn_key'); location.reload(); };
  const tabs = $$('#steps button');
  tabs.forEach((b, i) => {
    b.onclick = () => show(b.dataset.step);
    b.onkeydown = (e) => {
      const k = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? -1 : 0;
      if (!k) return;
      e.preventDefault();
      const next = tabs[(i + k + tabs.length) % tabs.length];
      next.focus();
      show(next.dataset.step);
    };
  });
  if (S.key && !(await signIn(S.key))) S.key = '';
  await show('network');
  document.body.dataset.ready = '1';
}

main();
