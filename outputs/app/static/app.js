// forecast app: the page's script. It holds no model and no prior language: it sends the
// form as a query string to the server (which runs the engine) and shows what comes back.
"use strict";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 350;
const NARROW = "(max-width: 1100px)";  // app.css's one-column layout
const SETTINGS = ["threshold", "year", "years", "samples", "seed", "as_of"];

let generation = 0;        // each update's number: answers to older ones are dropped
let controller = null;     // aborts the fetch of an update that is no longer wanted
let timer = null;
let rendered = null;       // the prior set whose fields are on the page
let priorRows = {};        // name -> {row, input, error, drag, base}
let corrEdits = new Map(); // "a,b" -> rank text: the pairs the user wrote (corr=...)
let currentQuery = "";     // query of the forecast on screen
let firstLoad = true;

// ---------------------------------------------------------------- the form <-> query

function formQuery() {
  const p = new URLSearchParams();
  p.append("priors", $("scenario").value);
  for (const [name, r] of Object.entries(priorRows)) {
    const spec = r.input.value.trim();
    if (spec !== r.base) p.append("set", `${name}:${spec}`);
  }
  for (const [pair, rank] of corrEdits) p.append("corr", `${pair}=${rank}`);
  for (const key of SETTINGS) p.append(key, $(key).value.trim());
  return p.toString();
}

function schedule(delay = DEBOUNCE_MS) {
  clearTimeout(timer);
  timer = setTimeout(() => update(formQuery()), delay);
}

// ---------------------------------------------------------------- updates

async function update(query, fallback = false) {
  const mine = ++generation;
  if (controller) controller.abort();
  controller = new AbortController();
  setBusy(true);
  // first the quick pass (the same forecast at fewer worlds, where the server has one),
  // then the page's worlds refine it
  let data = await getForecast(query, fallback, true);
  if (!data || mine !== generation) return;
  show(data);
  if (data.computed && data.quick) {
    data = await getForecast(query, fallback, false);
    if (!data || mine !== generation) return;
    show(data);
  }
  if (data.computed) loadPanels(data.query, mine);
  else setBusy(false);
  firstLoad = false;
}

async function getForecast(query, fallback, quick) {
  try {
    const url = "/api/forecast?" + query + (fallback ? "&fallback=1" : "") + (quick ? "&quick=1" : "");
    const response = await fetch(url, { signal: controller.signal });
    return await response.json();
  } catch (err) {
    if (err.name === "AbortError") return null;
    showBanner("The server did not answer: " + err.message);
    setBusy(false);
    return null;
  }
}

function show(data) {
  showBanner("");
  if (data.priors && (!rendered || rendered !== data.priors.set || !sameNames(data.priors))) {
    renderPriors(data.priors, data.scenarios);
  } else if (data.priors) refreshPriors(data.priors);
  showErrors(data.errors || []);
  if (data.computed) {
    // a first load with a bad URL parameter forecasts the valid rest: that is up to date
    showStale(data.ok || firstLoad ? [] : data.errors || []);
    renderNumbers(data);
    if (data.ok || firstLoad) history.replaceState(null, "", data.query ? "?" + data.query : location.pathname);
  } else {
    showStale(data.errors || []);
  }
}

// After a refused edit the numbers on screen are those of the last valid inputs: say so, on
// the headline itself, and name the fields to fix.
function showStale(errors) {
  const on = errors.length > 0;
  $("results").classList.toggle("outdated", on);
  $("stale-flag").hidden = !on;
  $("stale-note").hidden = !on;
  if (!on) return;
  const names = [...new Set(errors.map((e) => fieldName(e.field)))];
  $("stale-note").textContent = `Not updated: ${names.join(", ")} ${names.length > 1 ? "are" : "is"} refused ` +
    "(the message is under the field, in red). These numbers are the forecast of the last valid inputs.";
}

const FIELD_NAMES = { priors: "the prior set", threshold: "the threshold", year: "the year", years: "the years",
  samples: "the worlds", seed: "the seed", as_of: "as of", corr: "a correlation", set: "a prior change",
  url: "the address", run: "the run", server: "the server" };

function fieldName(field) {
  if (field.startsWith("set:")) return field.slice(4);
  if (field.startsWith("corr:")) return "the correlation " + field.slice(5);
  return FIELD_NAMES[field] || field;
}

function setBusy(on) {
  $("busy").hidden = !on;
  $("results").classList.toggle("busy-now", on);
}

function showBanner(text) {
  $("banner").textContent = text;
  $("banner").hidden = !text;
}

function showErrors(errors) {
  document.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; });
  document.querySelectorAll(".prior.bad").forEach((el) => el.classList.remove("bad"));
  const unplaced = [];
  for (const { field, message } of errors) {
    let target = null;
    if (field.startsWith("set:")) {
      const r = priorRows[field.slice(4)];
      if (r) {
        target = r.error;
        r.row.classList.add("bad");
        const group = r.row.closest("details");
        if (group) group.open = true;  // a collapsed group shows its refused field
      }
    } else if (field.startsWith("corr:")) {
      target = document.querySelector('.field-error[data-field="corr"]');
    } else {
      target = document.querySelector(`.field-error[data-field="${field}"]`);
    }
    if (target) target.textContent = target.textContent ? target.textContent + "\n" + message : message;
    else unplaced.push(message);
  }
  if (unplaced.length) showBanner(unplaced.join(" · "));
}

// ---------------------------------------------------------------- the priors

function renderPriors(priors, scenarios) {
  rendered = priors.set;
  const select = $("scenario");
  select.replaceChildren(...Object.keys(scenarios).map((name) => new Option(name, name)));
  select.value = priors.set;
  $("scenario-description").textContent = priors.description;
  const holder = $("prior-groups");
  holder.replaceChildren();
  priorRows = {};
  const narrow = window.matchMedia(NARROW).matches;
  for (const group of priors.groups) {
    const box = document.createElement("details");
    box.className = "box";
    // on a narrow screen the groups start closed (but a changed one), so that the results
    // are not below 36 fields
    box.open = !narrow || group.priors.some((p) => p.changed);
    const summary = document.createElement("summary");
    summary.textContent = group.title;
    box.append(summary);
    for (const p of group.priors) box.append(priorRow(p));
    holder.append(box);
  }
  const options = priors.latent.map((n) => new Option(n, n));
  $("pair-first").replaceChildren(...options.map((o) => o.cloneNode(true)));
  $("pair-second").replaceChildren(...options.map((o) => o.cloneNode(true)));
  if (priors.latent.length > 1) $("pair-second").selectedIndex = 1;
  renderCorrelations(priors.correlations);
}

function sameNames(priors) {
  const names = priors.groups.flatMap((g) => g.priors.map((p) => p.name));
  return names.length === Object.keys(priorRows).length && names.every((n) => n in priorRows);
}

function priorRow(p) {
  const row = document.createElement("div");
  row.className = "prior" + (p.changed ? " changed" : "");
  row.id = "row-" + p.name;
  const top = document.createElement("div");
  top.className = "top";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = p.name;
  name.title = [p.description, p.unit ? "unit: " + p.unit : "", p.source ? "source: " + p.source : "",
    "default: " + p.base_spec].filter(Boolean).join("\n");
  const unit = document.createElement("span");
  unit.className = "unit";
  unit.textContent = p.unit;
  top.append(name, unit);
  const line = document.createElement("div");
  line.className = "row";
  const input = document.createElement("input");
  input.type = "text";
  input.id = "prior-" + p.name;
  input.value = p.spec;
  input.spellcheck = false;
  input.title = name.title;
  input.setAttribute("aria-label", p.name);
  input.addEventListener("input", () => { markChanged(p.name); schedule(); });
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "reset";
  reset.title = "back to " + p.base_spec;
  reset.textContent = "↺";
  reset.addEventListener("click", () => {
    input.value = p.base_spec;
    markChanged(p.name);
    placeDrag(p.name, p.base_two);
    schedule(0);
  });
  line.append(input, reset);
  const error = document.createElement("div");
  error.className = "field-error";
  row.append(top, line);
  const entry = { row, input, error, base: p.base_spec, drag: null, two: p.two, base_two: p.base_two };
  priorRows[p.name] = entry;
  if (p.two || p.base_two) row.append(dragWidget(p.name, entry));
  row.append(error);
  placeDrag(p.name, p.two);
  return row;
}

function markChanged(name) {
  const r = priorRows[name];
  r.row.classList.toggle("changed", r.input.value.trim() !== r.base);
}

function refreshPriors(priors) {
  for (const group of priors.groups) {
    for (const p of group.priors) {
      const r = priorRows[p.name];
      if (!r) continue;
      markChanged(p.name);
      if (!r.dragging) placeDrag(p.name, p.two);
    }
  }
  renderCorrelations(priors.correlations);
}

// Dragging the 5th and 95th percentiles of a spec written as "FAMILY A to B": the handles
// rewrite the two numbers in the text field; the server reads the spec as typed.

function dragScale(two) {
  const [family, lo, hi] = two;
  const log = (family === "lognormal" || family === "loguniform") && lo > 0;
  if (log) {
    const a = Math.log10(lo), b = Math.log10(hi), pad = Math.max((b - a) * 1.2, 0.3);
    return { log, min: a - pad, max: b + pad };
  }
  const pad = Math.max((hi - lo) * 1.2, Math.abs(hi) * 0.1, 1e-6);
  return { log, min: lo - pad, max: hi + pad };
}

function dragWidget(name, entry) {
  const box = document.createElement("div");
  box.className = "drag";
  box.title = "drag the 5th and 95th percentiles";
  const track = document.createElement("div");
  track.className = "track";
  const span = document.createElement("div");
  span.className = "span";
  const low = document.createElement("div");
  const high = document.createElement("div");
  low.className = high.className = "handle";
  low.dataset.end = "low";
  high.dataset.end = "high";
  box.append(track, span, low, high);
  entry.drag = { box, span, low, high, scale: dragScale(entry.two || entry.base_two) };
  for (const handle of [low, high]) {
    handle.addEventListener("pointerdown", (ev) => {
      const two = entry.two;
      if (!two) return;
      ev.preventDefault();
      handle.setPointerCapture(ev.pointerId);
      handle.classList.add("active");
      entry.dragging = { end: handle.dataset.end, two: [...two] };
    });
    handle.addEventListener("pointermove", (ev) => {
      if (!entry.dragging || !handle.hasPointerCapture(ev.pointerId)) return;
      const rect = box.getBoundingClientRect();
      const f = Math.min(1, Math.max(0, (ev.clientX - rect.left) / rect.width));
      const s = entry.drag.scale;
      let v = s.min + f * (s.max - s.min);
      if (s.log) v = Math.pow(10, v);
      const two = entry.dragging.two;
      if (entry.dragging.end === "low") two[1] = Math.min(v, two[2] - Math.abs(two[2]) * 1e-3);
      else two[2] = Math.max(v, two[1] + Math.abs(two[1]) * 1e-3);
      entry.input.value = `${two[0]} ${round(two[1])} to ${round(two[2])}`;
      entry.two = [two[0], Number(round(two[1])), Number(round(two[2]))];
      placeDrag(name, entry.two);
      markChanged(name);
      schedule();
    });
    const end = () => { handle.classList.remove("active"); entry.dragging = null; };
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }
  return box;
}

function round(v) {
  return Number(v.toPrecision(2)).toString();
}

function placeDrag(name, two) {
  const r = priorRows[name];
  if (!r || !r.drag) return;
  r.two = two;
  r.drag.box.style.visibility = two ? "visible" : "hidden";
  if (!two) return;
  const s = r.drag.scale;
  const pos = (v) => {
    const x = s.log ? Math.log10(Math.max(v, 1e-300)) : v;
    return Math.min(100, Math.max(0, (100 * (x - s.min)) / (s.max - s.min)));
  };
  const a = pos(two[1]), b = pos(two[2]);
  r.drag.low.style.left = a + "%";
  r.drag.high.style.left = b + "%";
  r.drag.span.style.left = a + "%";
  r.drag.span.style.width = Math.max(0, b - a) + "%";
}

// ---------------------------------------------------------------- correlations

function renderCorrelations(pairs) {
  const table = $("correlations");
  table.replaceChildren();
  const shown = new Set();
  for (const c of pairs) {
    const key = `${c.first},${c.second}`;
    shown.add(key);
    table.append(corrRow(key, String(c.rank), corrEdits.has(key)));
  }
  for (const [key, rank] of corrEdits) {  // written pairs not in the set (refused, or 0)
    if (!shown.has(key)) table.append(corrRow(key, rank, true));
  }
}

function corrRow(key, rank, changed) {
  const tr = document.createElement("tr");
  if (changed) tr.className = "changed";
  const pair = document.createElement("td");
  pair.className = "pair";
  pair.textContent = key.replace(",", " · ");
  const cell = document.createElement("td");
  const input = document.createElement("input");
  input.type = "text";
  input.value = corrEdits.has(key) ? corrEdits.get(key) : rank;
  input.setAttribute("aria-label", "rank correlation " + key);
  input.addEventListener("input", () => { corrEdits.set(key, input.value.trim()); tr.className = "changed"; schedule(); });
  cell.append(input);
  const drop = document.createElement("td");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "×";
  button.title = "remove this pair (rank 0)";
  button.addEventListener("click", () => { corrEdits.set(key, "0"); schedule(0); });
  drop.append(button);
  tr.append(pair, cell, drop);
  return tr;
}

// ---------------------------------------------------------------- numbers and charts

function renderNumbers(data) {
  currentQuery = data.query;
  const h = data.headline;
  const st = data.state;
  $("headline").textContent = h.text;
  $("headline").classList.toggle("first-pass", Boolean(h.refining));
  $("crossing").textContent = h.crossing;
  $("worlds").textContent = `${h.samples.toLocaleString("en")} worlds` +
    (h.refining ? ` (a first pass; refining to ${st.samples.toLocaleString("en")})` : "") +
    `, seed ${st.seed}` + (h.conditioned ? `, conditioned on ${h.conditioned}` : ", prior forecast");
  $("mcse-note").textContent = h.mcse_note;
  $("headline").title = h.mcse_note;
  renderQuestions(data.questions || [], data.questions_note || "");
  for (const key of SETTINGS) {
    if (document.activeElement !== $(key)) $(key).value = st[key];
  }
  corrEdits = new Map(st.correlate.map((text) => {
    const [pair, rank] = text.split("=");
    return [pair, rank];
  }));
  if (data.priors) renderCorrelations(data.priors.correlations);
  lastMore = data.more_samples;
  const more = $("more");
  more.disabled = st.samples >= data.more_samples;
  more.textContent = more.disabled ? `${st.samples.toLocaleString("en")} worlds` :
    `More worlds (${data.more_samples.toLocaleString("en")})`;
  const q = data.query ? "?" + data.query : "";
  $("dl-toml").href = "/download/priors.toml" + q;
  $("dl-csv").href = "/download/summary.csv" + q;
  $("dl-report").href = "/download/report.zip" + q;
  $("command").textContent = data.command;
  const warnings = $("warnings");
  warnings.replaceChildren(...(data.warnings || []).map((w) => {
    const li = document.createElement("li");
    li.textContent = w;
    return li;
  }));
}

// The headline thresholds, each by the end of its year: the true probability (a run that
// large has finished) beside the published one (a public estimate that large exists).
function renderQuestions(rows, note) {
  const el = $("questions");
  el.replaceChildren();
  const head = document.createElement("tr");
  for (const text of ["", "true", "published"]) {
    const th = document.createElement("th");
    th.textContent = text;
    head.append(th);
  }
  el.append(head);
  for (const r of rows) {
    const tr = document.createElement("tr");
    if (r.headline) tr.className = "headline-question";
    for (const text of [r.label, r.true_text, r.published_text]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    el.append(tr);
  }
  $("questions-note").textContent = note;
}

function renderTable(table, year) {
  const el = $("table");
  el.replaceChildren();
  const head = document.createElement("tr");
  for (const c of table.columns) {
    const th = document.createElement("th");
    th.textContent = c;
    head.append(th);
  }
  el.append(head);
  for (const row of table.rows) {
    const tr = document.createElement("tr");
    if (row[0] === year) tr.className = "headline-year";
    row.forEach((v, i) => {
      const td = document.createElement("td");
      td.textContent = v;
      if (table.columns[i] === "cost" || table.columns[i] === "energy") td.className = "wrap";
      tr.append(td);
    });
    el.append(tr);
  }
}

const TAKES = [["power", "power of the system"], ["capital", "capital of the cluster"],
  ["cost", "cost of the run"], ["energy", "energy of the run"]];

function renderTakes(takes) {
  $("takes-title").textContent = `What the run takes in ${takes.year}`;
  const el = $("takes");
  el.replaceChildren();
  for (const [key, label] of TAKES) {
    if (!(key in takes.values)) continue;
    const div = document.createElement("div");
    const b = document.createElement("b");
    const text = takes.values[key];
    const cut = text.indexOf(" (");
    b.textContent = cut > 0 ? text.slice(0, cut) : text;
    div.append(b, label + (cut > 0 ? `, 90%: ${text.slice(cut + 2, -1)}` : ""));
    el.append(div);
  }
}

function loadImage(img, src) {
  return new Promise((resolve) => {
    const next = new Image();
    next.onload = () => { img.src = src; resolve(true); };
    next.onerror = () => resolve(false);
    next.src = src;
  });
}

async function loadPanels(query, mine) {
  const q = query ? "?" + query : "";
  await loadImage($("plot-fan"), "/api/plot/fan.png" + q);
  if (mine !== generation) return;
  setBusy(false);
  try {
    const details = await (await fetch("/api/details" + q)).json();
    if (mine !== generation) return;
    if (details.table) {
      renderTable(details.table, details.takes.year);
      renderTakes(details.takes);
    }
  } catch (err) { /* the next update draws them */ }
  for (const kind of ["timeline", "constraints"]) {
    await loadImage($("plot-" + kind), `/api/plot/${kind}.png` + q);
    if (mine !== generation) return;
  }
  await loadTornado(q, mine);
  if (mine !== generation) return;
  await loadImage($("plot-resources"), "/api/plot/resources.png" + q);
}

async function loadTornado(q, mine) {
  let data;
  try {
    data = await (await fetch("/api/tornado" + q)).json();
  } catch (err) {
    return;
  }
  if (mine !== generation || !data.rows) return;
  const pct = (p) => `${(100 * p).toFixed(0)}%`;
  $("tornado-caption").textContent = `How ${data.label} moves when one prior is pinned at its 5th or 95th ` +
    `percentile (${data.as_of ? `weighed by the record to ${data.as_of}` : "the prior forecast"}, ` +
    `${data.samples.toLocaleString("en")} worlds per pin, same seed; ` +
    `* : correlated partners move with it). Unpinned: ${pct(data.base)}.`;
  const values = data.rows.flatMap((r) => [r.p_low, r.p_high]).concat([data.base]);
  let lo = Math.max(0, Math.min(...values) - 0.05), hi = Math.min(1, Math.max(...values) + 0.05);
  const x = (p) => (100 * (p - lo)) / (hi - lo || 1);
  const el = $("tornado");
  el.replaceChildren();
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.innerHTML = '<span><i style="background:var(--low)"></i>prior at its 5th percentile</span>' +
    '<span><i style="background:var(--high)"></i>at its 95th</span>';
  el.append(legend);
  for (const r of data.rows) {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.title = `${r.name}: at ${fmt(r.low_value)} ${r.unit}, ${pct(r.p_low)}; at ${fmt(r.high_value)} ${r.unit}, ` +
      `${pct(r.p_high)}` + (r.moves_with ? `\nmoves with: ${r.moves_with}` : "");
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = r.name + (r.moves_with ? " *" : "");
    const track = document.createElement("div");
    track.className = "track";
    for (const [end, p] of [["low", r.p_low], ["high", r.p_high]]) {
      const seg = document.createElement("div");
      seg.className = "seg " + end;
      const a = Math.min(x(p), x(data.base)), b = Math.max(x(p), x(data.base));
      seg.style.left = a + "%";
      seg.style.width = Math.max(0.4, b - a) + "%";
      track.append(seg);
    }
    const base = document.createElement("div");
    base.className = "base";
    base.style.left = x(data.base) + "%";
    track.append(base);
    const text = document.createElement("div");
    text.className = "values";
    text.textContent = `${pct(r.p_low)} → ${pct(r.p_high)}`;
    row.append(label, track, text);
    el.append(row);
  }
  const axis = document.createElement("div");
  axis.className = "axis";
  axis.innerHTML = `<span></span><span class="ends"><span>${pct(lo)}</span><span>${pct(hi)}</span></span><span></span>`;
  el.append(axis);
}

function fmt(v) {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

// ---------------------------------------------------------------- wiring

function wire() {
  for (const key of SETTINGS) $(key).addEventListener("input", () => schedule());
  $("scenario").addEventListener("change", () => {
    corrEdits = new Map();
    for (const r of Object.values(priorRows)) r.input.value = r.base;
    rendered = null;
    const p = new URLSearchParams();
    p.append("priors", $("scenario").value);
    for (const key of SETTINGS) p.append(key, $(key).value.trim());
    priorRows = {};
    update(p.toString());
  });
  $("more").addEventListener("click", () => {
    $("samples").value = String(lastMore);
    schedule(0);
  });
  $("pair-add").addEventListener("click", () => {
    const a = $("pair-first").value, b = $("pair-second").value;
    corrEdits.set(`${a},${b}`, $("pair-rank").value.trim());
    schedule(0);
  });
  $("copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      $("copy-link").textContent = "Copied";
    } catch (err) {
      $("copy-link").textContent = "Copy the address bar";
    }
    setTimeout(() => { $("copy-link").textContent = "Copy link"; }, 1500);
  });
}

let lastMore = 100000;
wire();
update(location.search.replace(/^\?/, ""), true);
