// sungrow-sim dashboard: one live event stream per selected inverter, plain DOM and SVG.
"use strict";

const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400;
const RECENT_MS = 10000; // registers read this recently are highlighted
const CLIENTS_EVERY_MS = 3000; // the clients panel refreshes at most this often

const ui = {
  unit: null, // selected unit id
  features: { requests: false, settings: false, units: [] },
  samples: [], offset: 0, span: DAY,
  regRows: [], // [{row, words, value, table, address, width}]
  stream: null, // AbortController of the event stream
  clientsAt: 0, requests: [], settingsLoaded: null,
};

function token() { return sessionStorage.getItem("sungrow-sim-token"); }

function notice(text) {
  const el = $("#notice");
  el.textContent = text || "";
  el.hidden = !text;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = "Bearer " + token();
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET", headers, signal: options.signal,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) { askToken(); throw new Error("the control token is needed"); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function askToken() {
  const dialog = $("#token-dialog");
  if (!dialog.open) dialog.showModal();
}

// Actions from forms: report errors in the notice, never throw into the console.
async function act(path, method, body) {
  try {
    const data = await api(path, { method, body });
    notice("");
    return data;
  } catch (err) {
    notice(`${method} ${path.split("?")[0]}: ${err.message}`);
    return null;
  }
}

function unitQuery(sep = "?") { return `${sep}unit_id=${ui.unit}`; }

function kw(watts) {
  if (watts === null || watts === undefined) return "–";
  return Math.abs(watts) >= 1000 ? `${(watts / 1000).toFixed(2)} kW` : `${Math.round(watts)} W`;
}

// -- energy flow ------------------------------------------------------------------------

function setLine(id, watts, forward) {
  const line = document.getElementById(id);
  const on = Math.abs(watts || 0) >= 1;
  line.classList.toggle("on", on);
  line.classList.toggle("rev", on && !forward);
}

function showFlow(inv) {
  const r = inv.readings;
  const hybrid = inv.family === "hybrid";
  const battery = hybrid ? r.battery_power_w : null;
  $("#flow-pv").textContent = kw(r.pv_power_w);
  $("#flow-load").textContent = kw(r.load_power_w);
  $("#flow-grid").textContent = kw(Math.abs(r.grid_power_w));
  $("#flow-battery").textContent = hybrid ? kw(Math.abs(battery)) : "none";
  $("#flow-soc").textContent = hybrid ? `SOC ${r.battery_soc_pct}%` : "";
  $("#flow-state").textContent = r.fault_code ? `fault ${r.fault_code}` : r.work_state;
  setLine("line-pv", r.pv_power_w, true);
  setLine("line-load", r.load_power_w, true);
  setLine("line-battery", battery, battery > 0);
  setLine("line-grid", r.grid_power_w, r.grid_power_w > 0);
  const grid = r.grid_power_w > 0 ? `exporting ${kw(r.grid_power_w)}` :
    r.grid_power_w < 0 ? `importing ${kw(-r.grid_power_w)}` : "grid idle";
  const bat = !hybrid ? "no battery" : battery > 0 ? `battery charging ${kw(battery)}` :
    battery < 0 ? `battery discharging ${kw(-battery)}` : "battery idle";
  $("#flow-text").textContent =
    `PV ${kw(r.pv_power_w)}, house ${kw(r.load_power_w)}, ${bat}, ${grid}.`;
  const svg = $("#flow");
  svg.dataset.pv = r.pv_power_w; svg.dataset.load = r.load_power_w;
  svg.dataset.grid = r.grid_power_w; svg.dataset.battery = battery ?? "";
}

// -- chart ------------------------------------------------------------------------------

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function hhmm(t) {
  const d = new Date((t + ui.offset) * 1000);
  return d.toISOString().slice(11, 16);
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= raw);
}

function drawChart() {
  const svg = $("#chart");
  const samples = ui.samples;
  svg.replaceChildren(el("desc", { id: "chart-desc" },
    samples.length ? `${samples.length} samples up to ${hhmm(samples.at(-1).t)}` : "No samples yet."));
  svg.dataset.points = String(samples.length);
  const W = Math.max(320, Math.round(svg.clientWidth || 720)), H = 240, L = 56, R = 40, T = 10, B = 24;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const end = samples.length ? samples.at(-1).t : 0;
  const start = end - ui.span;
  let lo = 0, hi = 1000;
  for (const s of samples) {
    for (const v of [s.pv_w, s.load_w, s.battery_w ?? 0, s.grid_w]) {
      lo = Math.min(lo, v); hi = Math.max(hi, v);
    }
  }
  const step = niceStep((hi - lo) / 4);
  lo = Math.floor(lo / step) * step; hi = Math.ceil(hi / step) * step;
  const x = (t) => L + ((t - start) / ui.span) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const ySoc = (p) => T + (1 - p / 100) * (H - T - B);
  const axis = el("g", { class: "axis" });
  for (let v = lo; v <= hi + step / 2; v += step) {
    axis.append(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid-line" }));
    axis.append(el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, kw(v)));
  }
  for (let p = 0; p <= 100; p += 25) axis.append(el("text", { x: W - R + 4, y: ySoc(p) + 4 }, `${p}%`));
  if (samples.length) {
    const every = W < 560 ? 6 : 3; // hours between time labels
    for (let h = 0; h <= 24; h += every) {
      const t = start + h * 3600;
      axis.append(el("text", { x: x(t), y: H - 8, "text-anchor": "middle" }, hhmm(t)));
    }
  }
  svg.append(axis);
  const series = [["pv", (s) => s.pv_w], ["load", (s) => s.load_w],
    ["battery", (s) => s.battery_w], ["grid", (s) => s.grid_w]];
  for (const [name, get] of series) {
    const pts = samples.filter((s) => get(s) !== null).map((s) => `${x(s.t).toFixed(1)},${y(get(s)).toFixed(1)}`);
    if (pts.length) svg.append(el("polyline", { class: name, points: pts.join(" ") }));
  }
  const soc = samples.filter((s) => s.soc_pct !== null).map((s) => `${x(s.t).toFixed(1)},${ySoc(s.soc_pct).toFixed(1)}`);
  if (soc.length) svg.append(el("polyline", { class: "soc", points: soc.join(" ") }));
  const last = samples.at(-1);
  if (!last) return;
  // The newest values as dots, so a chart just started (one sample) shows something.
  for (const [name, get] of series) {
    if (get(last) !== null) svg.append(el("circle", { class: name, cx: x(last.t), cy: y(get(last)), r: 3 }));
  }
  if (last.soc_pct !== null) svg.append(el("circle", { class: "soc", cx: x(last.t), cy: ySoc(last.soc_pct), r: 3 }));
}

async function loadSamples(signal) {
  const data = await api(`/v1/samples${unitQuery()}`, { signal });
  ui.samples = data.samples; ui.offset = data.utc_offset_s; ui.span = data.span_s;
  drawChart();
}

function addSample(sample) {
  if (!sample) return;
  const last = ui.samples.at(-1);
  if (last && sample.t < last.t) { loadSamples(ui.stream?.signal).catch(() => {}); return; }
  if (last && sample.t === last.t) return;
  ui.samples.push(sample);
  while (ui.samples.length && sample.t - ui.samples[0].t > ui.span) ui.samples.shift();
  drawChart();
}

// -- registers --------------------------------------------------------------------------

function hex(words) { return words.map((w) => w.toString(16).padStart(4, "0")).join(" "); }

async function loadRegisters(signal) {
  const data = await api(`/v1/registers${unitQuery()}`, { signal });
  const table = $("#registers");
  for (const body of table.querySelectorAll("tbody")) body.remove();
  ui.regRows = [];
  let body = null, block = null;
  for (const reg of data.registers) {
    if (reg.block !== block) {
      block = reg.block;
      body = document.createElement("tbody");
      body.dataset.block = block;
      const head = body.insertRow();
      const th = document.createElement("th");
      th.colSpan = 5; th.scope = "colgroup"; th.textContent = `${block}`;
      head.append(th);
      table.append(body);
    }
    const row = body.insertRow();
    row.dataset.table = reg.table;
    row.dataset.address = reg.address;
    row.dataset.search = `${reg.address} ${reg.name} ${reg.unit || ""} ${reg.table}`.toLowerCase();
    const cells = [reg.address, reg.name, "", "", reg.unit || ""].map((text) => {
      const cell = row.insertCell(); cell.textContent = text; return cell;
    });
    cells[2].className = "words";
    const entry = { row, words: cells[2], value: cells[3], table: reg.table,
      address: reg.address, width: reg.words.length || 1 };
    ui.regRows.push(entry);
    showRegister(entry, reg.words, reg.value);
  }
  filterRegisters();
  markRecent();
}

function showRegister(entry, words, value) {
  entry.words.textContent = hex(words);
  entry.value.textContent = value === null ? "–" : String(value);
}

function liveRegisters(values) {
  if (!values || values.length !== ui.regRows.length) return;
  values.forEach(([words, value], i) => showRegister(ui.regRows[i], words, value));
}

function filterRegisters() {
  const text = $("#reg-filter").value.trim().toLowerCase();
  const table = $("#reg-table").value;
  for (const body of $("#registers").querySelectorAll("tbody")) {
    let shown = 0;
    for (const row of body.querySelectorAll("tr[data-address]")) {
      const show = (!table || row.dataset.table === table) && (!text || row.dataset.search.includes(text));
      row.hidden = !show;
      shown += show ? 1 : 0;
    }
    body.hidden = shown === 0;
  }
}

function markRecent() {
  const now = Date.now();
  const ranges = ui.requests.filter((r) => r.function === "read" && r.unit_id === ui.unit &&
    now - utc(r.last) < RECENT_MS);
  for (const entry of ui.regRows) {
    const hit = ranges.some((r) => r.table === entry.table && entry.address < r.address + r.count &&
      r.address < entry.address + entry.width);
    entry.row.classList.toggle("recent", hit);
  }
}

// -- clients ----------------------------------------------------------------------------

// The record's times are UTC; a time without a zone suffix is read as UTC too.
function utc(iso) { return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z"); }

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - utc(iso)) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : iso;
}

async function loadClients(force = false) {
  const none = $("#clients-none");
  if (!ui.features.requests) {
    none.textContent = "No record: this simulator has no request recorder (GET /v1/requests).";
    return;
  }
  if (!force && Date.now() - ui.clientsAt < CLIENTS_EVERY_MS) return;
  ui.clientsAt = Date.now();
  let data;
  try {
    data = await api("/v1/requests");
  } catch (err) {
    none.textContent = `No record: ${err.message}`;
    return;
  }
  ui.requests = data.requests || [];
  const table = $("#clients");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const r of ui.requests) {
    const row = body.insertRow();
    const outcomes = Object.entries(r.outcomes || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    const cells = [r.peer, r.protocol, r.unit_id, r.table, r.function,
      `${r.address}+${r.count}`, r.requests, outcomes, ago(r.last)];
    for (const text of cells) row.insertCell().textContent = text ?? "";
    if (r.last_outcome && r.last_outcome !== "ok") row.cells[7].classList.add("bad");
  }
  table.hidden = ui.requests.length === 0;
  none.textContent = ui.requests.length ? "" : "No requests yet.";
  none.hidden = ui.requests.length > 0;
  markRecent();
}

// -- faults -----------------------------------------------------------------------------

let faultForms = {};

function optionField(opt) {
  const id = `fault-opt-${opt.name}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = opt.name.replace(/_s$/, " (s)").replaceAll("_", " ");
  let input;
  if (opt.choices) {
    input = document.createElement("select");
    for (const c of opt.choices) input.add(new Option(c, c, c === opt.default, c === opt.default));
  } else {
    input = document.createElement("input");
    input.type = "number";
    input.step = opt.type === "integer" ? "1" : "any";
    if (opt.min !== null) input.min = opt.min;
    if (opt.max !== null) input.max = opt.max;
    input.placeholder = opt.default === null ? "default" : String(opt.default);
  }
  input.id = id; input.name = opt.name; input.dataset.type = opt.type;
  if (opt.description) input.title = opt.description;
  return [label, input];
}

function showFaultForm() {
  const kind = $("#fault-kind").value;
  const form = faultForms[kind];
  $("#fault-desc").textContent = form ? form.description : "";
  $("#fault-options").replaceChildren(...(form ? form.options.flatMap(optionField) : []));
}

async function loadFaultForms() {
  faultForms = (await api("/v1/fault-forms")).kinds;
  const select = $("#fault-kind");
  select.replaceChildren(...Object.keys(faultForms).map((k) => new Option(k, k)));
  showFaultForm();
}

async function injectFault(event) {
  event.preventDefault();
  const body = { kind: $("#fault-kind").value };
  for (const input of $("#fault-options").querySelectorAll("input, select")) {
    if (input.value === "") continue;
    body[input.name] = input.dataset.type === "string" ? input.value : Number(input.value);
  }
  if (await act("/v1/faults", "POST", body)) $("#fault-desc").textContent = `${body.kind} injected.`;
}

function faultText(f) {
  const where = f.start ? ` ${f.start}${f.count ? "+" + f.count : ""}` : "";
  const left = f.expires_in_s === null ? "until cleared" : `${Math.ceil(f.expires_in_s)} s left`;
  return `${f.kind}${where} · ${f.scope}${f.code !== null ? " · code " + f.code : ""} · ${left}`;
}

// Rebuilt only when the set of faults changes, so a focused Clear button keeps its focus
// while the time left counts down.
function showFaults(faults) {
  const list = $("#fault-list");
  const key = faults.map((f) => f.id).join(",");
  if (list.dataset.key === key) {
    faults.forEach((f, i) => { list.children[i].firstChild.textContent = faultText(f); });
    return;
  }
  list.dataset.key = key;
  if (!faults.length) { list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "none" })); return; }
  list.replaceChildren(...faults.map((f) => {
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = faultText(f);
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Clear ${f.kind}`;
    button.addEventListener("click", () => act(`/v1/faults?kind=${encodeURIComponent(f.kind)}`, "DELETE"));
    li.dataset.kind = f.kind;
    li.append(text, button);
    return li;
  }));
}

// -- overrides and settings -------------------------------------------------------------

function showOverrides(inv) {
  const o = inv.overrides;
  const auto = (v, unit) => (v === null ? "auto" : `${v} ${unit}`);
  $("#ov-power-now").textContent = `now ${auto(o.power_w, "W")}`;
  $("#ov-load-now").textContent = `now ${auto(o.load_w, "W")}`;
  $("#ov-state-now").textContent = `now ${inv.readings.work_state}${o.state ? " (forced)" : ""}`;
  $("#ov-battery-now").textContent = inv.family === "hybrid" ?
    `now ${inv.readings.battery_soc_pct}%, ${auto(o.battery_power_w, "W")}` : "";
  for (const node of document.querySelectorAll(".hybrid")) node.hidden = inv.family !== "hybrid";
}

function wireOverrides() {
  for (const form of document.querySelectorAll("form[data-endpoint]")) {
    const path = () => form.dataset.endpoint + unitQuery();
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      act(path(), "POST", { [form.dataset.field]: Number(form.elements.value.value) });
    });
    form.querySelector(".auto").addEventListener("click", () => act(path(), "POST", { [form.dataset.field]: null }));
  }
  $("#state-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(`/v1/state${unitQuery()}`, "POST", { state: $("#ov-state").value });
  });
  $("#battery-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {};
    if ($("#ov-soc").value !== "") body.soc_pct = Number($("#ov-soc").value);
    if ($("#ov-bat").value !== "") body.power_w = Number($("#ov-bat").value);
    act(`/v1/battery${unitQuery()}`, "POST", body);
  });
  $("#battery-form .auto").addEventListener("click", () => act(`/v1/battery${unitQuery()}`, "POST", { auto: true }));
  $("#clock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(`/v1/clock${unitQuery()}`, "POST", { time: $("#ov-clock").value });
  });
}

async function loadSettings() {
  const none = $("#settings-none");
  const box = $("#settings");
  if (!ui.features.settings) {
    none.textContent = "This simulator has no device settings (GET /v1/settings).";
    box.replaceChildren();
    return;
  }
  let data;
  try { data = await api(`/v1/settings${unitQuery()}`); } catch (err) {
    none.textContent = `No settings: ${err.message}`; return;
  }
  none.textContent = "";
  box.replaceChildren(...data.settings.flatMap(settingField));
  ui.settingsLoaded = ui.unit;
}

function settingField(s) {
  const id = `setting-${s.name}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = `${s.name.replaceAll("_", " ")} (${s.address})${s.unit ? " " + s.unit : ""}`;
  const form = document.createElement("form");
  form.className = "row";
  let input;
  if (s.choices) {
    input = document.createElement("select");
    for (const name of Object.keys(s.choices)) input.add(new Option(name, name, false, name === s.value));
  } else {
    input = document.createElement("input");
    input.type = "number"; input.step = "any"; input.value = s.value;
    if (s.min !== null) input.min = s.min;
    if (s.max !== null) input.max = s.max;
  }
  input.id = id; input.name = s.name;
  const button = document.createElement("button");
  button.type = "submit"; button.textContent = "Save";
  form.append(input, button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = s.choices ? input.value : Number(input.value);
    const done = await act("/v1/settings", "POST", { unit_id: ui.unit, name: s.name, value });
    if (done) notice("");
  });
  return [label, form];
}

// -- the live stream --------------------------------------------------------------------

function onState(event) {
  const inv = event.inverter;
  $("#model").textContent = `${inv.model} ${inv.serial} (unit ${inv.unit_id})`;
  $("#clock").textContent = inv.clock.replace("T", " ");
  if (!$("#ov-clock").value && document.activeElement !== $("#ov-clock")) $("#ov-clock").value = inv.clock;
  $("#scale").textContent = `×${event.time_scale}`;
  ui.offset = event.utc_offset_s;
  showFlow(inv);
  showFaults(inv.faults);
  showOverrides(inv);
  addSample(event.sample);
  liveRegisters(event.registers);
  loadClients().catch(() => {});
}

async function stream(controller) {
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const response = await fetch(`/v1/events${unitQuery()}&registers=1`, { headers, signal: controller.signal });
  if (response.status === 401) { askToken(); throw new Error("the control token is needed"); }
  if (!response.ok || !response.body) throw new Error(`${response.status} ${response.statusText}`);
  $("#conn").textContent = "live";
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) onState(JSON.parse(data));
    }
  }
}

async function connect() {
  if (ui.stream) ui.stream.abort();
  const controller = new AbortController();
  ui.stream = controller;
  let wait = 1000;
  while (!controller.signal.aborted) {
    try {
      // The stream's signal also cancels these: a slow answer for the unit just left
      // never lands on the one now selected.
      await Promise.all([loadSamples(controller.signal), loadRegisters(controller.signal)]);
      await stream(controller);
      wait = 1000;
    } catch (err) {
      if (controller.signal.aborted) return;
      $("#conn").textContent = `reconnecting (${err.message})`;
    }
    if (controller.signal.aborted) return;
    $("#conn").textContent = "reconnecting…";
    await new Promise((done) => setTimeout(done, wait));
    wait = Math.min(wait * 2, 10000);
  }
}

async function start() {
  try {
    ui.features = await api("/v1/features");
  } catch (err) {
    $("#conn").textContent = `not connected (${err.message})`;
    return;
  }
  const select = $("#unit");
  select.replaceChildren(...ui.features.units.map((u) => new Option(`unit ${u}`, u)));
  ui.unit = ui.features.units[0];
  await loadFaultForms().catch((err) => notice(err.message));
  loadSettings();
  loadClients(true);
  connect();
}

function init() {
  $("#token-form").addEventListener("submit", () => {
    sessionStorage.setItem("sungrow-sim-token", $("#token").value);
    start();
  });
  window.addEventListener("resize", drawChart);
  $("#unit").addEventListener("change", (e) => {
    ui.unit = Number(e.target.value);
    loadSettings();
    connect();
  });
  $("#fault-kind").addEventListener("change", showFaultForm);
  $("#fault-form").addEventListener("submit", injectFault);
  $("#fault-clear-all").addEventListener("click", () => act("/v1/faults", "DELETE"));
  $("#reg-filter").addEventListener("input", filterRegisters);
  $("#reg-table").addEventListener("change", filterRegisters);
  wireOverrides();
  start();
}

document.addEventListener("DOMContentLoaded", init);
