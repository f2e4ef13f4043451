// detente operator console: one ES module, no build step, nothing fetched but this node's API.
// The operator's token lives in sessionStorage (this tab only) and goes out as a Bearer header;
// the event stream alone carries it as ?token= because EventSource cannot send headers.

const TOKEN_KEY = "detente.console.token";
const LANG_KEY = "detente.console.lang";
const COMPOSE_TYPES = [
  "hotline-message", "link-test", "clarification-request", "consultation-meeting-request",
  "pre-test-notification", "test-update", "test-cancel", "post-test-report", "observation-invitation",
  "policy-development-notification", "periodic-exchange",
];
const ANSWERED_BY_ANSWER = new Set(["detente.dev/clarification-request/v1"]);
// Threads asked for at a time (newest first; "more" asks for the next page): 100, or the console
// URL's ?inbox_page=N (1 to 1000).
function inboxPage() {
  return Math.min(1000, Math.max(1, Number(new URLSearchParams(location.search).get("inbox_page")) || 100));
}

const S = {
  token: sessionStorage.getItem(TOKEN_KEY),
  lang: sessionStorage.getItem(LANG_KEY) || "en",
  strings: { en: {}, zh: {} },
  stringsLoaded: false,
  me: null,
  status: null,
  inbox: [],
  inboxLimit: 0,  // inboxPage() at the first load
  inboxTotal: 0,
  fetchedAt: 0,
  digest: null,
  seenUrgent: null,
  events: null,
  catalogue: null,
  view: "inbox",
  search: null,
  incident: null,
  logs: null,
  alarms: [],
  audit: null,
  evals: [],
  compare: null,
  labels: null,
  exportctl: null,
  records: {},
  notified: null,
  actionCount: 0,
  pending: null,
  registers: {},
  opened: {},
  detailsOpen: new Set(),
  recordLoads: {},
};

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// --- strings ------------------------------------------------------------------------------

function t(key, vars = {}) {
  const table = S.strings[S.lang] || {};
  let text = table[key] ?? S.strings.en[key] ?? key;
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

function applyI18n() {
  document.documentElement.lang = S.lang === "zh" ? "zh-Hans" : "en";
  for (const node of $$("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  setTitle();
  $("#lang").value = S.lang;
}

// --- DOM helpers (text only: no markup is ever built from data) ---------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind || ""}` }, text);
}

function when(iso) {
  if (!iso) return "—";
  const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function duration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hh = String(Math.floor(s / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return days ? t("time.days", { d: days, hms: `${hh}:${mm}:${ss}` }) : `${hh}:${mm}:${ss}`;
}

function shortType(type) {
  return type.replace(/^detente\.dev\//, "").replace(/\/v\d+$/, "");
}

function typeName(type) {
  const key = `type.${shortType(type)}`;
  const name = t(key);
  return name === key ? shortType(type) : name;
}

function party(origin) {
  return origin.replace(/\.detente\.example\/log$/, "");
}

function textIn(bilingual) {
  // The text in the UI language if the record has it, and the other one (lang tag, text) if any.
  if (!bilingual) return null;
  const want = S.lang === "zh" ? "zh" : "en";
  const all = [[bilingual.original.lang, bilingual.original.text, true]];
  for (const [lang, text] of Object.entries(bilingual.translations || {})) all.push([lang, text, false]);
  const first = all.find(([lang]) => lang.split("-")[0] === want) || all[0];
  const other = all.find((item) => item !== first);
  return { main: first, other };
}

function announce(message) {
  const region = $("#announcer");
  region.textContent = "";
  setTimeout(() => { region.textContent = message; }, 60);
}

function say(message) {
  $("#status-line").textContent = message;
}

function showError(target, err) {
  target.replaceChildren(el("p", { class: "error", role: "alert" }, t("common.error", { detail: err.message })));
}

// --- the API ------------------------------------------------------------------------------

function idempotencyKey() {
  // One key per write (draft-ietf-httpapi-idempotency-key-header): a retry reuses it.
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function api(method, path, { json, body, headers, withTotal } = {}) {
  const h = { Authorization: `Bearer ${S.token}`, Accept: "application/json", ...(headers || {}) };
  let payload = body;
  if (json !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  if (method !== "GET" && !h["Idempotency-Key"]) h["Idempotency-Key"] = idempotencyKey();
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body: payload, cache: "no-store" });
  } catch (lost) {
    if (method === "GET") throw lost;
    // The answer was lost (network): send the same request again with the same key; the node
    // answers a retry with its first answer and signs nothing twice.
    resp = await fetch(path, { method, headers: h, body: payload, cache: "no-store" });
  }
  const raw = await resp.text();
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = raw;
  }
  if (!resp.ok) {
    const detail = data && data.detail ? data.detail + (data.hint ? ` — ${data.hint}` : "") : `HTTP ${resp.status}`;
    const err = new Error(detail);
    err.status = resp.status;
    if (resp.status === 401 && S.me) signOut(t("signin.expired"));
    throw err;
  }
  if (withTotal) return { data, total: Number(resp.headers.get("X-Total-Count") || 0) };
  return data;
}

// --- sign-in ------------------------------------------------------------------------------

async function signIn(token) {
  S.token = token;
  try {
    const [me, status] = await Promise.all([api("GET", "/api/v1/whoami"), api("GET", "/api/v1/status")]);
    S.me = me;
    S.status = status;
  } catch (err) {
    S.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    throw err;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("#signin").hidden = true;
  $("#views").hidden = false;
  $("#signout").hidden = false;
  $("#whoami").hidden = false;
  showView("inbox");  // loads the inbox
  startEvents();
  renderWhoami();  // last: the page is usable once it says who is signed in
  await loadCatalogue();
}

function signOut(message = "") {
  stopEvents();
  S.token = null;
  S.me = null;
  S.seenUrgent = null;
  S.notified = null;
  S.actionCount = 0;
  S.inboxLimit = 0;
  S.records = {};
  S.recordLoads = {};
  S.opened = {};
  S.detailsOpen = new Set();
  setTitle();
  S.digest = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("#signin").hidden = false;
  $("#views").hidden = true;
  $("#signout").hidden = true;
  $("#whoami").hidden = true;
  for (const view of $$(".view")) view.hidden = true;
  $("#signin-error").textContent = message;
  $("#token").value = "";
  $("#token").focus();
  say(t("signin.signed_out"));
}

function canWrite() {
  // Viewers see everything; the actions that write a record are for officers and admins.
  return Boolean(S.me) && S.me.role !== "viewer";
}

function renderWhoami() {
  if (!S.me) return;
  $("#compose").hidden = !canWrite();
  $("#audit-run").hidden = !canWrite();
  $("#r-publish").hidden = !canWrite();
  $("#whoami").textContent = t("app.whoami", {
    party: S.me.party,
    origin: S.me.origin,
    role: t(`role.${S.me.role}`),
    label: S.me.label || S.me.token_id,
  });
  renderPeerHealth();
}

// --- views --------------------------------------------------------------------------------

const LOADERS = {
  inbox: () => loadInbox(),
  incidents: () => Promise.resolve(),
  verification: () => loadVerification(),
  evals: () => loadEvals(),
  labels: () => Promise.resolve(),
  exportctl: () => loadExportCatalogue(),
  commitments: () => loadRegister("commitments", "/api/v1/commitments"),
  takedowns: () => loadRegister("takedowns", "/api/v1/takedowns"),
  disclosures: () => loadRegister("disclosures", "/api/v1/exportctl/disclosures"),
  arrangements: () => loadRegister("arrangements", "/api/v1/exportctl/recognitions"),
  peers: () => loadRegister("peers", "/api/v1/status", (status) => status.peers),
  report: () => {
    if (!$("#r-period").value) {
      const now = new Date();
      $("#r-period").value = `${now.getUTCFullYear()}Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
    }
    return Promise.resolve();
  },
};

function showView(name) {
  S.view = name;
  for (const view of $$(".view")) view.hidden = view.id !== `view-${name}`;
  for (const button of $$("#views button")) {
    if (button.dataset.view === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  LOADERS[name]().catch((err) => say(t("common.error", { detail: err.message })));
}

// --- live updates -------------------------------------------------------------------------

function startEvents() {
  stopEvents();
  const source = new EventSource(`/api/v1/events?token=${encodeURIComponent(S.token)}`);
  source.addEventListener("inbox", (ev) => {
    const data = JSON.parse(ev.data);
    if (data.digest === S.digest) return;
    S.digest = data.digest;
    loadInbox().catch((err) => say(t("common.error", { detail: err.message })));
    refreshStatus();
    if (S.view === "verification") loadVerification().catch(() => {});
  });
  source.addEventListener("signed-out", () => signOut(t("signin.expired")));
  source.onopen = () => document.body.classList.add("live");
  source.onerror = () => {
    document.body.classList.remove("live");
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(() => api("GET", "/api/v1/whoami").then(() => S.me && startEvents()).catch(() => {}), 3000);
    }
  };
  S.events = source;
}

function stopEvents() {
  if (S.events) S.events.close();
  S.events = null;
}

// --- inbox --------------------------------------------------------------------------------

async function loadInbox() {
  if (!S.inboxLimit) S.inboxLimit = inboxPage();
  // The newest S.inboxLimit threads, and as many open ones (every obligation still owed, however
  // old, so that "Needs your action" misses none of the first pages): never the whole inbox.
  const page = (open) => api("GET", `/api/v1/inbox?${new URLSearchParams({
    limit: String(S.inboxLimit), ...(open ? { open: "true" } : {}) })}`, { withTotal: true });
  const [all, open] = await Promise.all([page(false), page(true)]);
  const seen = new Set(all.data.map(key));
  S.inbox = [...all.data, ...open.data.filter((th) => !seen.has(key(th)))];
  S.inboxTotal = all.total;
  S.inboxMore = all.total > all.data.length || open.total > open.data.length;
  S.fetchedAt = Date.now();
  renderInbox();
}

async function moreInbox(ev) {
  ev.target.disabled = true;
  S.inboxLimit += inboxPage();
  try {
    await loadInbox();
  } catch (err) {
    S.inboxLimit -= inboxPage();
    say(t("common.error", { detail: err.message }));
  } finally {
    ev.target.disabled = false;
  }
}

function isOpen(thread) {
  return thread.obligations.some((o) => !o.met_at);  // pending or missed: both stay in view
}

function isUrgent(thread) {
  return thread.incoming && thread.priority === "flash" && thread.states[S.me.origin] !== "answered";
}

function key(thread) {
  return `${thread.origin}#${thread.index}`;
}

function threadItem(thread, { urgent, fresh }) {
  const me = S.me.origin;
  const text = textIn(thread.text);
  const id = `t-${thread.origin.replace(/[^a-z0-9]/gi, "-")}-${thread.index}`;
  const missed = thread.obligations.some((o) => o.missed);
  const classes = ["thread", urgent ? "urgent-item" : "", fresh ? "fresh" : "", missed ? "missed" : ""];
  const head = el("h4", { id: `${id}-h` },
    thread.priority ? badge(t(`priority.${thread.priority}`), `prio-${thread.priority}`) : null,
    " ", typeName(thread.type), " ",
    el("span", { class: "meta" }, threadParties(thread, me)),
    " ", el("span", { class: "meta" }, when(thread.issued)),
    " ", el("span", { class: "meta record-id" }, t("inbox.record_id", { id: key(thread) })));
  const body = [];
  if (text) {
    body.push(el("p", { class: "msg", lang: text.main[0] }, text.main[1]));
    if (text.other) body.push(el("p", { class: "msg other", lang: text.other[0] }, text.other[1]));
  }
  if (thread.replies && thread.replies.length) {
    body.push(el("ul", { class: "replies", "aria-label": t("inbox.replies") }, thread.replies.map(replyItem)));
  }
  if (thread.code) body.push(el("p", { class: "code" }, codeText(thread)));
  if (thread.quota && thread.quota.over_quota) {
    body.push(el("p", { class: "finding over-quota" }, badge(t("inbox.over_quota"), "bad"), " ",
      t("inbox.over_quota_detail", { ...thread.quota, party: party(thread.quota.party) })));
  }
  body.push(timeLine(thread));
  if (Object.keys(thread.states).length) {
    const why = thread.unanswered || {};
    body.push(el("p", { class: "states" }, t("inbox.states"), " ",
      Object.entries(thread.states).map(([p, s]) => [
        el("span", { class: "state-item" }, `${party(p)}: `, badge(t(`state.${s}`), `state-${s}`),
          why[p] ? [" ", badge(t(`unanswered.${why[p]}`), "bad")] : null), " "])));
  }
  if (thread.obligations.length) {
    body.push(el("ul", { class: "obligations", "aria-label": t("inbox.deadlines") },
      thread.obligations.map((o) => obligationItem(thread, o))));
  }
  for (const finding of thread.findings.filter((f) => f !== "over-quota")) {
    body.push(el("p", { class: "finding" }, badge(t("inbox.finding"), "warn"), " ", findingText(finding)));
  }
  if (thread.escalations.length) {
    body.push(el("p", { class: "finding" }, t("inbox.escalations", { steps: thread.escalations.join(", ") })));
  }
  const row = S.records[key(thread)];
  if (row && row.record.sealed) body.push(sealedBox(thread, row.record, id));
  body.push(recordDetails(thread, id));
  if (thread.incoming && thread.states[me] !== "answered" && canWrite()) body.push(ackForm(thread, id));
  return el("li", { class: classes.join(" "), "aria-labelledby": `${id}-h`, "data-key": key(thread) },
    el("article", {}, head, body));
}

function replyItem(reply) {
  // What the other side said (an acknowledgement's note, an answer's text), with its record ID.
  const said = reply.kind === "answer" ? reply.answer : reply.note;
  const extra = reply.text ? textIn(reply.text) : null;
  const kind = reply.kind === "answer" ? t("inbox.reply_answer") : t("inbox.reply_ack");
  return el("li", { class: "reply" }, badge(kind, "ok"), " ",
    t("inbox.reply_from", { who: party(reply.from), id: reply.id }), " ", el("span", { class: "meta" }, when(reply.issued)),
    ": ", said ? el("q", {}, said) : el("span", { class: "meta" }, t("inbox.reply_no_note")),
    extra ? [" ", el("q", { lang: extra.main[0] }, extra.main[1])] : null);
}

function threadParties(thread, me) {
  if (thread.incoming || (thread.from !== me && !thread.to.length)) return t("inbox.from", { who: party(thread.from) });
  return thread.to.length ? t("inbox.to", { who: thread.to.map(party).join(", ") }) : t("inbox.to_all");
}

function codeText(thread) {
  // Which entry of the agreement's code list the meaning comes from: the full code, or its word.
  if (!thread.code_matched) return t("inbox.code", { code: thread.code, meaning: t("inbox.code_unknown") });
  if (thread.code_matched === thread.code) return t("inbox.code", { code: thread.code, meaning: thread.code_meaning });
  return t("inbox.code_word", { code: thread.code, word: thread.code_matched, meaning: thread.code_meaning });
}

function obligationItem(thread, o) {
  const what = t(`obligation.${o.kind}`, {});
  const who = party(o.party);
  if (o.met_at) {
    return el("li", { class: "met" }, `${what} (${who}): `, badge(t("inbox.met"), "ok"), ` ${when(o.met_at)}`);
  }
  if (o.missed) {
    return el("li", { class: "missed" }, `${what} (${who}): `, badge(t("inbox.missed"), "bad"), ` ${t("inbox.due", { at: when(o.due) })}`);
  }
  const deadline = S.fetchedAt + o.seconds_left * 1000;
  const window = (new Date(o.due) - new Date(thread.issued)) / 1000;
  const reminder = window > 0 && o.seconds_left <= window / 2;
  return el("li", { class: reminder ? "reminder" : "" }, `${what} (${who}): `,
    reminder ? [badge(t("inbox.reminder"), "warn"), " "] : null,
    t("inbox.left"), " ", el("span", { class: "countdown", "data-deadline": String(deadline) }, duration(o.seconds_left * 1000)),
    " ", el("span", { class: "meta" }, t("inbox.due", { at: when(o.due) })));
}

function ackForm(thread, id) {
  const answer = ANSWERED_BY_ANSWER.has(thread.type);
  const input = answer
    ? el("textarea", { id: `${id}-note`, rows: "2", required: true })
    : el("input", { id: `${id}-note`, type: "text" });
  const result = el("span", { class: "result", role: "status" });
  const form = el("form", { class: "ack", novalidate: true },
    el("label", { for: `${id}-note` }, t(answer ? "inbox.answer_label" : "inbox.note_label")), input,
    el("button", { type: "submit" }, t(answer ? "inbox.answer" : "inbox.ack")), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value = input.value.trim();
    if (answer && !value) {
      result.textContent = t("inbox.answer_needed");
      input.focus();
      return;
    }
    const payload = answer ? { answer: value } : { note: value };
    form.querySelector("button").disabled = true;
    try {
      await api("POST", `/api/v1/threads/${thread.origin}/${thread.index}/ack`, { json: payload });
      say(t("inbox.acked", { what: typeName(thread.type), from: party(thread.from) }));
      await loadInbox();
    } catch (err) {
      form.querySelector("button").disabled = false;
      result.textContent = t("common.error", { detail: err.message });
    }
  });
  return form;
}

function tick() {
  const now = Date.now();
  for (const node of $$(".countdown[data-deadline]")) {
    const left = Number(node.dataset.deadline) - now;
    node.textContent = left > 0 ? duration(left) : t("inbox.overdue");
  }
}

// --- compose ------------------------------------------------------------------------------

async function loadCatalogue() {
  if (!S.catalogue) S.catalogue = await api("GET", "/api/v1/catalogue");
  renderCompose();
  fillFacets();
}

function renderCompose() {
  if (!S.catalogue || !S.status) return;
  const select = $("#c-type");
  const current = select.value || "detente.dev/hotline-message/v1";
  const types = COMPOSE_TYPES.map((s) => `detente.dev/${s}/v1`).filter((ty) => ty in S.catalogue);
  select.replaceChildren(...types.map((ty) => el("option", { value: ty, selected: ty === current }, typeName(ty))));
  const fieldset = $("#c-to");
  const checked = new Set($$("input", fieldset).filter((i) => i.checked).map((i) => i.value));
  const boxes = S.status.peers.map((p, i) => el("div", { class: "check" },
    el("input", { type: "checkbox", id: `c-to-${i}`, value: p.origin,
      checked: checked.size ? checked.has(p.origin) : S.status.peers.length === 1 }),
    el("label", { for: `c-to-${i}` }, `${p.name} (${p.origin})`)));
  fieldset.replaceChildren(el("legend", {}, t("compose.to")), ...boxes);
  if (!boxes.length) fieldset.append(el("p", { class: "help" }, t("compose.no_peers")));
  composeType();
}

function composeType() {
  // A form generated from the type's JSON Schema: a select per enumeration, a UTC date-time input
  // per date-time, a checkbox per boolean, one line per list item; what was typed is kept.
  const type = $("#c-type").value;
  const schema = S.catalogue && S.catalogue[type];
  const box = $("#c-fields");
  const kept = Object.fromEntries($$("[data-field]", box).map((n) => [n.dataset.field, n.type === "checkbox" ? n.checked : n.value]));
  const same = box.dataset.type === type;
  box.dataset.type = type;
  const rows = [];
  const required = new Set((schema && schema.required) || []);
  for (const [name, raw] of Object.entries((schema && schema.properties) || {})) {
    const spec = resolve(schema, raw);
    const id = `c-f-${name}`;
    const help = raw.description ? el("p", { class: "help", id: `${id}-help` }, raw.description) : null;
    const label = [fieldLabel(name, raw), spec.format === "date-time" ? ` (${t("compose.utc")})` : "",
      required.has(name) || spec.type === "boolean" ? "" : ` (${t("compose.optional")})`];
    const common = { id, "data-field": name, "data-kind": spec.format === "date-time" ? "date-time" : spec.type || "string",
      "aria-describedby": help ? `${id}-help` : null, required: required.has(name) };
    let input;
    if (spec.enum) {
      input = el("select", common,
        required.has(name) ? null : el("option", { value: "" }, t("compose.none")),
        spec.enum.map((v) => el("option", { value: v, selected: spec.default === v }, enumLabel(name, v))));
    } else if (spec.type === "boolean") {
      input = el("input", { ...common, type: "checkbox", checked: spec.default === true });
    } else if (spec.type === "integer" || spec.type === "number") {
      input = el("input", { ...common, type: "number", step: spec.type === "integer" ? "1" : "any" });
    } else if (spec.format === "date-time") {
      input = el("input", { ...common, type: "datetime-local", step: "60" });
    } else if (spec.format === "date") {
      input = el("input", { ...common, type: "date" });
    } else if (spec.type === "array" || spec.type === "object") {
      input = el("textarea", { ...common, rows: "2", class: "mono", "data-kind": spec.type === "array" && spec.items && spec.items.type === "string" ? "lines" : "json" });
    } else if ((spec.maxLength || 0) > 256) {
      input = el("textarea", { ...common, rows: "2" });
    } else {
      input = el("input", { ...common, type: "text", placeholder: spec.examples ? String(spec.examples[0]) : null, pattern: spec.pattern || null });
    }
    if (same && name in kept) {
      if (input.type === "checkbox") input.checked = kept[name];
      else input.value = kept[name];
    } else if (spec.default !== undefined && spec.default !== null && input.type !== "checkbox" && !spec.enum) {
      input.value = typeof spec.default === "string" ? spec.default : "";
    }
    const wide = input.tagName === "TEXTAREA";
    rows.push(input.type === "checkbox"
      ? el("div", { class: "check" }, input, el("label", { for: id }, label), help)
      : el("div", { class: wide ? "wide" : "" }, el("label", { for: id }, label), input, help));
  }
  box.replaceChildren(el("legend", {}, t("compose.fields")), ...rows);
  hidePreview();
}

function composeBody() {
  // The body the form says, or an error naming the field (as the node would refuse it).
  const body = {};
  for (const input of $$("#c-fields [data-field]")) {
    const name = input.dataset.field;
    const kind = input.dataset.kind;
    if (input.type === "checkbox") {
      body[name] = input.checked;
      continue;
    }
    const value = input.value.trim();
    if (!value) {
      if (input.required) throw Object.assign(new Error(t("compose.field_needed", { field: fieldLabel(name) })), { input });
      continue;
    }
    if (kind === "date-time") body[name] = `${value.length === 16 ? `${value}:00` : value}Z`;
    else if (kind === "integer" || kind === "number") body[name] = Number(value);
    else if (kind === "lines") body[name] = value.split("\n").map((v) => v.trim()).filter(Boolean);
    else if (kind === "json") {
      try {
        body[name] = JSON.parse(value);
      } catch (err) {
        throw Object.assign(new Error(t("compose.bad_json", { detail: `${name}: ${err.message}` })), { input });
      }
    } else body[name] = value;
  }
  return body;
}

function hidePreview() {
  S.pending = null;
  $("#c-preview").hidden = true;
}

function previewCompose(ev) {
  ev.preventDefault();
  const out = $("#compose-result");
  out.textContent = "";
  const type = $("#c-type").value;
  const to = $$("#c-to input:checked").map((i) => i.value);
  const original = $("#c-text").value.trim();
  if (!original) {
    out.textContent = t("compose.text_needed");
    $("#c-text").focus();
    return;
  }
  let body;
  try {
    body = composeBody();
  } catch (err) {
    out.textContent = err.message;
    if (err.input) err.input.focus();
    return;
  }
  const lang = $("#c-lang").value === "zh" ? "zh-Hans" : "en";
  const other = lang === "en" ? "zh-Hans" : "en";
  const translation = $("#c-translation").value.trim();
  const payload = {
    type, to, body, tlp: $("#c-tlp").value,
    text: { original: { lang, text: original }, translations: translation ? { [other]: translation } : {} },
  };
  S.pending = payload;
  $("#c-preview-summary").textContent = t("compose.preview_summary", {
    what: typeName(type), who: to.length ? to.map(party).join(", ") : t("inbox.to_all"),
    party: S.me.origin, tlp: payload.tlp,
  });
  $("#c-preview-json").textContent = JSON.stringify(payload, null, 2);
  $("#c-preview").hidden = false;
  $("#c-confirm").focus();
}

async function confirmCompose() {
  const out = $("#compose-result");
  const payload = S.pending;
  if (!payload) return;
  $("#c-confirm").disabled = true;
  try {
    const done = await api("POST", "/api/v1/records", { json: payload });
    out.textContent = t("compose.sent", { what: typeName(payload.type), index: done.index });
    $("#c-text").value = "";
    $("#c-translation").value = "";
    hidePreview();
    await loadInbox();
  } catch (err) {
    out.textContent = t("common.error", { detail: err.message });
  } finally {
    $("#c-confirm").disabled = false;
  }
}

// --- registers: commitments, takedowns, disclosures, peers ---------------------------------

async function loadRegister(name, path, pick = (rows) => rows) {
  const target = $(`#${name}-result`);
  try {
    S.registers[name] = pick(await api("GET", path));
    renderRegister(name);
  } catch (err) {
    showError(target, err);
  }
}

function cell(value) {
  // A value as text: times in UTC, lists joined, anything nested as compact JSON.
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return t(value ? "common.yes" : "common.no");
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) return when(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== "object")) return value.join(", ") || "—";
  if (typeof value === "object") return el("code", { class: "mono" }, JSON.stringify(value).slice(0, 300));
  return String(value);
}

function renderRegister(name) {
  const rows = S.registers[name];
  const target = $(`#${name}-result`);
  if (!rows) return;
  if (!rows.length) {
    target.replaceChildren(el("p", { class: "help" }, t("registers.empty")));
    return;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 12);
  target.replaceChildren(el("table", {},
    el("caption", {}, t("registers.count", { n: rows.length })),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, fieldLabel(c))))),
    el("tbody", {}, rows.map((r) => el("tr", {}, columns.map((c) => el("td", {}, cell(r[c]))))))));
}

// --- incident facets ----------------------------------------------------------------------

const JURISDICTIONS = ["EU", "EU-GPAI", "EU-NIS2", "CN", "US-CA", "US-NY", "US-CIRCIA"];

function fillFacets() {
  // Facets as selects of the fixed values (the incident report's schema, the regimes, the parties).
  const schema = S.catalogue && S.catalogue["detente.dev/incident-report/v1"];
  const defs = (schema && schema.$defs) || {};
  const options = {
    "#s-harm": (defs.HarmType && defs.HarmType.enum) || [],
    "#s-category": (defs.Category && defs.Category.enum) || [],
    "#s-jurisdiction": JURISDICTIONS,
    "#s-party": S.status ? [S.status.origin, ...S.status.peers.map((p) => p.origin)] : [],
  };
  for (const [sel, values] of Object.entries(options)) {
    const select = $(sel);
    if (!select || select.tagName !== "SELECT") continue;
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, t("common.any")),
      ...values.map((v) => el("option", { value: v, selected: v === current }, sel === "#s-party" ? party(v) : enumLabel(sel.slice(3), v))));
  }
}

// --- the action queue ---------------------------------------------------------------------
// "Needs your action": every open obligation of this party on an incoming record (flash and
// immediate messages, notices awaiting an answer, missed deadlines, takedown and co-signature
// requests), the nearest deadline first; then "Waiting on them": what this party sent that others
// still owe; then the rest.

const ACTION_TYPES = new Set([
  "detente.dev/takedown-request/v1", "detente.dev/commitment-document/v1",
  "detente.dev/supplier-recognition/v1", "detente.dev/pre-test-notification/v1",
  "detente.dev/clarification-request/v1",
]);

function myOpen(thread) {
  return thread.obligations.filter((o) => o.party === S.me.origin && !o.met_at);
}

function needsAction(thread) {
  if (!thread.incoming) return false;
  if (myOpen(thread).length) return true;
  return ACTION_TYPES.has(thread.type) && thread.states[S.me.origin] !== "answered";
}

function waitingOnThem(thread) {
  return !thread.incoming && thread.obligations.some((o) => o.party !== S.me.origin && !o.met_at);
}

function dueOf(thread, mine) {
  const open = thread.obligations.filter((o) => !o.met_at && (mine ? o.party === S.me.origin : o.party !== S.me.origin));
  const times = open.map((o) => new Date(o.due).getTime()).filter((v) => !Number.isNaN(v));
  return times.length ? Math.min(...times) : Infinity;
}

function alertWorthy(thread) {
  // What a desktop notification is for: a flash message, or a deadline of this party missed.
  const flash = thread.priority === "flash" && thread.states[S.me.origin] !== "answered";
  const missed = myOpen(thread).some((o) => o.missed);
  return flash ? "flash" : missed ? "missed" : null;
}

function setTitle() {
  const n = S.actionCount || 0;
  document.title = n ? `(${n}) ${t("app.title")}` : t("app.title");
}

function notifyNew(action) {
  const now = new Map(action.map((th) => [key(th), alertWorthy(th)]).filter(([, why]) => why));
  const first = S.notified === null;
  const seen = S.notified || new Map();
  S.notified = now;
  renderNotifyButton();
  if (first || typeof Notification === "undefined" || Notification.permission !== "granted") return;
  for (const thread of action) {
    const why = now.get(key(thread));
    if (!why || seen.get(key(thread)) === why) continue;
    const text = textIn(thread.text);
    const title = t(`notify.${why}`, { what: typeName(thread.type), from: party(thread.from) });
    try {
      new Notification(title, { body: text ? text.main[1] : key(thread), tag: `${key(thread)}-${why}`, lang: S.lang });
    } catch {
      // a browser that refuses page notifications: the title counter and the queue still say it
    }
  }
}

function renderNotifyButton() {
  const button = $("#notify-enable");
  button.hidden = typeof Notification === "undefined" || Notification.permission !== "default";
}

async function enableNotifications() {
  if (typeof Notification === "undefined") return;
  const answer = await Notification.requestPermission();
  renderNotifyButton();
  say(t(answer === "granted" ? "notify.granted" : "notify.denied"));
}

function renderInbox() {
  if (!S.me) return;
  const action = S.inbox.filter(needsAction).sort((a, b) => dueOf(a, true) - dueOf(b, true));
  const waiting = S.inbox.filter((th) => !needsAction(th) && waitingOnThem(th))
    .sort((a, b) => dueOf(a, false) - dueOf(b, false));
  const queued = new Set([...action, ...waiting].map(key));
  const urgent = action.filter(isUrgent);
  const keys = new Set(urgent.map(key));
  if (S.seenUrgent === null) {
    if (urgent.length) announce(t("inbox.urgent_count", { n: urgent.length }));
  } else {
    for (const thread of urgent) {
      if (!S.seenUrgent.has(key(thread))) {
        const text = textIn(thread.text);
        announce(t("inbox.urgent_new", { from: party(thread.from), text: text ? text.main[1] : "" }));
      }
    }
  }
  const fresh = S.seenUrgent === null ? new Set() : new Set([...keys].filter((k) => !S.seenUrgent.has(k)));
  S.seenUrgent = keys;
  S.actionCount = action.length;
  setTitle();
  notifyNew(action);
  $("#action").hidden = action.length === 0;
  $("#action-count").textContent = t("inbox.action_count", { n: action.length });
  $("#action-list").replaceChildren(...action.map((th) => threadItem(th, { urgent: isUrgent(th), fresh: fresh.has(key(th)) })));
  $("#waiting").hidden = waiting.length === 0;
  $("#waiting-list").replaceChildren(...waiting.map((th) => threadItem(th, {})));
  const rest = S.inbox.filter((th) => !queued.has(key(th)));
  const open = rest.filter(isOpen);
  const closed = rest.filter((th) => !isOpen(th));
  $("#inbox-empty").hidden = S.inbox.length > 0;
  const items = open.map((th) => threadItem(th, {}));
  if (closed.length) {
    items.push(el("li", { class: "closed" },
      el("details", {},
        el("summary", {}, t("inbox.closed", { n: closed.length })),
        el("ul", { class: "threads" }, closed.map((th) => threadItem(th, {}))))));
  }
  $("#thread-list").replaceChildren(...items);
  $("#inbox-shown").textContent = S.inbox.length ? t("inbox.shown", { n: S.inbox.length, total: S.inboxTotal }) : "";
  $("#inbox-more").hidden = !S.inboxMore;
  $("#inbox-more").textContent = t("inbox.more", { n: inboxPage() });
  for (const thread of S.inbox) {
    if (!thread.text && !S.recordLoads[key(thread)]) loadRecord(thread).then(renderInbox).catch(() => {});
  }
  tick();
}

// --- a record's substance -----------------------------------------------------------------

function local(iso) {
  // The operator's local time beside UTC (the browser's time zone).
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const fmt = new Intl.DateTimeFormat(S.lang === "zh" ? "zh-CN" : "en-GB",
    { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  return t("time.local", { at: fmt.format(d) });
}

function whenBoth(iso) {
  return [when(iso), " ", el("span", { class: "meta local-time" }, local(iso))];
}

function loadRecord(thread) {
  // A record as logged (immutable: asked once, the answer kept until sign-out).
  const k = key(thread);
  if (!S.recordLoads[k]) {
    const params = new URLSearchParams({ origin: thread.origin, start: String(thread.index), limit: "1" });
    S.recordLoads[k] = api("GET", `/api/v1/records?${params}`).then((rows) => {
      S.records[k] = rows.length ? rows[0] : null;
      return S.records[k];
    }, (err) => {
      delete S.recordLoads[k];
      throw err;
    });
  }
  return S.recordLoads[k];
}

function timeLine(thread) {
  // The sender's claimed time beside the interval its witnesses vouch for.
  const w = thread.witnessed || {};
  const parts = [t("record.issued"), " ", ...whenBoth(thread.issued), "; "];
  if (w.lo || w.hi) {
    parts.push(t("record.witnessed", { lo: when(w.lo), hi: w.hi ? when(w.hi) : t("record.not_yet") }));
    if (w.hi_by && w.hi_by.length) parts.push(" ", el("span", { class: "meta" }, t("record.witnessed_by", { who: w.hi_by.join(", ") })));
  } else {
    parts.push(t("record.not_witnessed"));
  }
  return el("p", { class: "times" }, parts);
}

function recordDetails(thread, id) {
  const box = el("div", { class: "record-body", id: `${id}-record` });
  const details = el("details", { class: "record-detail" },
    el("summary", {}, t("record.details")), box);
  const fill = () => {
    loadRecord(thread)
      .then((row) => box.replaceChildren(...recordContent(thread, row, id)))
      .catch((err) => showError(box, err));
  };
  details.addEventListener("toggle", () => {
    if (details.open) S.detailsOpen.add(key(thread));
    else S.detailsOpen.delete(key(thread));
    if (details.open) fill();
  });
  if (S.detailsOpen.has(key(thread))) details.open = true;  // kept open across live re-renders
  return details;
}

function recordContent(thread, row, id) {
  if (!row) return [el("p", { class: "help" }, t("common.none"))];
  const rec = row.record;
  const out = [el("dl", { class: "facts" },
    el("dt", {}, t("record.id")), el("dd", {}, key(thread)),
    el("dt", {}, t("record.leaf")), el("dd", { class: "mono" }, row.leaf_hash),
    el("dt", {}, t("record.type")), el("dd", {}, `${typeName(rec.type)} (${rec.type})`),
    el("dt", {}, t("record.issued")), el("dd", {}, whenBoth(rec.issued)),
    el("dt", {}, t("record.tlp")), el("dd", {}, rec.tlp || "TLP:CLEAR"))];
  if (rec.sealed) out.push(el("p", { class: "help" }, t("sealed.help")));
  else out.push(...substance(rec.type, rec.body || {}, rec.text, thread));
  return out;
}

function substance(type, body, text, thread) {
  // The structured body, field by field with the catalogue's names, and the texts marked.
  const schema = S.catalogue ? S.catalogue[type] : null;
  const props = (schema && schema.properties) || {};
  const rows = [];
  for (const [name, value] of Object.entries(body)) {
    if (value === null || value === "" || (Array.isArray(value) && !value.length)) continue;
    const spec = resolve(schema, props[name] || {});
    let shown;
    if (typeof value === "boolean") shown = t(value ? "common.yes" : "common.no");
    else if (spec.format === "date-time") shown = whenBoth(value);
    else if (Array.isArray(value) || typeof value === "object") shown = el("code", {}, JSON.stringify(value));
    else shown = enumLabel(name, String(value));
    rows.push(el("dt", {}, fieldLabel(name, props[name])), el("dd", { "data-field": name }, shown));
    if (name === "code" && thread && thread.code) rows.push(el("dt", {}, t("record.code_meaning")), el("dd", {}, codeText(thread)));
  }
  const out = [el("h5", {}, t("record.body")), rows.length ? el("dl", { class: "facts body-facts" }, rows) : el("p", { class: "help" }, t("common.none"))];
  if (text) {
    out.push(el("h5", {}, t("record.texts")));
    out.push(el("p", { class: "msg original" }, badge(t("record.original", { lang: text.original.lang }), "ok"), " ",
      el("span", { lang: text.original.lang }, text.original.text)));
    for (const [lang, value] of Object.entries(text.translations || {})) {
      out.push(el("p", { class: "msg translation" }, badge(t("record.translation", { lang }), ""), " ", el("span", { lang }, value)));
    }
  }
  return out;
}

function resolve(schema, spec) {
  // A property's schema with its $ref followed and a nullable anyOf flattened (enums merged).
  if (!spec) return {};
  if (spec.$ref && schema && schema.$defs) return { ...schema.$defs[spec.$ref.split("/").pop()], ...spec, $ref: undefined };
  if (spec.anyOf) {
    const parts = spec.anyOf.map((p) => resolve(schema, p)).filter((p) => p.type !== "null");
    const values = parts.flatMap((p) => p.enum || (p.const !== undefined ? [p.const] : []));
    const merged = { ...parts[0], ...spec, anyOf: undefined, nullable: parts.length < spec.anyOf.length };
    if (values.length && parts.every((p) => p.enum || p.const !== undefined)) merged.enum = values;
    return merged;
  }
  return spec;
}

function fieldLabel(name, spec) {
  const k = `field.${name}`;
  const known = t(k);
  if (known !== k) return known;
  return (spec && spec.title) || name;
}

function enumLabel(name, value) {
  for (const k of [`${name}.${value}`, `enum.${value}`]) {
    const shown = t(k);
    if (shown !== k) return shown;
  }
  return value;
}

// --- sealed records -----------------------------------------------------------------------

function sealedBox(thread, rec, id) {
  // The lock, the marking and who can read it; for a recipient, Open (what it showed is kept
  // across the live re-renders of the inbox).
  const k = key(thread);
  const recipients = rec.sealed.to.map((s) => party(s.party));
  const mine = rec.sealed.to.some((s) => s.party === S.me.origin);
  const result = el("div", { class: "opened", id: `${id}-opened` });
  const show = () => {
    const opened = S.opened[k];
    if (!opened) return;
    if (opened.error) {
      result.replaceChildren(el("p", { class: "error", role: "alert" }, t("sealed.refused", { detail: opened.error })));
      return;
    }
    result.replaceChildren(
      ...(opened.problems || []).map((p) => el("p", { class: "finding" }, badge(t("inbox.finding"), "warn"), " ", p)),
      ...substance(rec.type, opened.body || {}, opened.text, thread));
  };
  const box = el("div", { class: "sealed" },
    el("p", {}, el("span", { class: "lock", "aria-hidden": "true" }, "🔒"), " ",
      badge(t("sealed.label", { tlp: rec.tlp }), "warn"), " ", t("sealed.to", { who: recipients.join(", ") })),
    el("p", { class: "help" }, t("sealed.help")));
  if (mine) {
    box.append(el("button", { type: "button", class: "open-sealed", onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        S.opened[k] = await api("GET", `/api/v1/records/${thread.origin}/${thread.index}/open`);
      } catch (err) {
        S.opened[k] = { error: err.message };
      } finally {
        ev.target.disabled = false;
      }
      if (result.isConnected) show();
      else renderInbox();  // re-rendered meanwhile: the new box shows it
    } }, t("sealed.open")));
  }
  box.append(result);
  show();
  return box;
}

// --- finding codes in plain words ---------------------------------------------------------

function findingText(code) {
  // A finding code as a sentence saying what it means and what to do; the code itself after it.
  const [base, at] = code.split("@");
  const m = base.match(/^(human-control|moratorium|moratorium-review):(.+)$/);
  let text;
  if (m) text = t(`finding.${m[1]}`, { ref: m[2] });
  else text = t(`finding.${base}`);
  if (text === `finding.${base}`) return code;
  if (at) text += " " + t("finding.in_reply", { id: at });
  return [text, " ", el("code", { class: "meta" }, code)];
}

// --- peer health --------------------------------------------------------------------------

function renderPeerHealth() {
  const list = $("#peer-health");
  if (!S.status || !S.me) { list.hidden = true; return; }
  list.hidden = S.status.peers.length === 0;
  list.setAttribute("aria-label", t("peers.health"));
  list.replaceChildren(...S.status.peers.map((p) => {
    const silent = Boolean(p.silent_since);
    const failing = p.failures > 0;
    const state = silent ? badge(t("peers.silent"), "bad") : failing ? badge(t("peers.failing"), "warn") : badge(t("peers.ok"), "ok");
    const says = silent ? t("peers.silent_since", { at: when(p.silent_since) })
      : t("peers.last_heard", { at: p.last_heard ? when(p.last_heard) : t("peers.never") });
    return el("li", { class: "peer", title: p.last_error || "" }, `${p.name}: `, state, " ",
      el("span", { class: "meta" }, says),
      failing ? [" ", el("span", { class: "meta" }, t("peers.failures", { n: p.failures, error: p.last_error || "" }))] : null);
  }));
}

async function refreshStatus() {
  try {
    S.status = await api("GET", "/api/v1/status");
    renderPeerHealth();
  } catch {
    // shown again at the next refresh
  }
}

// --- incidents ----------------------------------------------------------------------------

async function searchIncidents(ev) {
  ev.preventDefault();
  const params = new URLSearchParams();
  const fields = {
    q: "#s-q", match: "#s-match", harm_type: "#s-harm", sector: "#s-sector", min_severity: "#s-severity",
    category: "#s-category", party: "#s-party", jurisdiction: "#s-jurisdiction", critical_infrastructure: "#s-ci",
  };
  for (const [name, sel] of Object.entries(fields)) {
    const value = $(sel).value.trim();
    if (value && !(name === "match" && value === "all")) params.set(name, value);
  }
  if ($("#s-from").value) params.set("occurred_from", `${$("#s-from").value}T00:00:00Z`);
  if ($("#s-to").value) params.set("occurred_to", `${$("#s-to").value}T23:59:59Z`);
  params.set("limit", "50");
  try {
    S.search = await api("GET", `/api/v1/incidents?${params}`);
    renderSearch();
  } catch (err) {
    S.search = null;
    $("#search-results").hidden = true;
    showError($("#search-summary"), err);
  }
}

function renderSearch() {
  if (!S.search) return;
  $("#search-summary").textContent = t("incidents.found", { n: S.search.total });
  const table = $("#search-results");
  table.hidden = S.search.hits.length === 0;
  $("tbody", table).replaceChildren(...S.search.hits.map((hit) => el("tr", {},
    el("td", {}, sealedMark(hit), el("button", { type: "button", class: "link", onclick: () => openIncident(hit.origin, hit.incident_id) },
      hit.title_text ? textIn(hit.title_text).main[1] : hit.title),
      hit.tlp && hit.sealed_to ? [" ", el("span", { class: "meta sealed-to" }, t("incidents.sealed_to", { who: hit.sealed_to.map(party).join(", ") }))] : null),
    el("td", {}, party(hit.origin)),
    el("td", {}, badge(t(`severity.${hit.severity}`), `sev-${hit.severity}`)),
    el("td", {}, t(`stage.${hit.stage}`)),
    el("td", {}, when(hit.occurred)))));
}

async function openIncident(origin, id) {
  try {
    const [shown, similar] = await Promise.all([
      api("GET", `/api/v1/incident?${new URLSearchParams({ origin, id })}`),
      api("GET", `/api/v1/incident/similar?${new URLSearchParams({ origin, id })}`),
    ]);
    S.incident = { shown, similar, opener: document.activeElement };
    renderIncident();
    $("#incident").hidden = false;
    $("#incident").focus();
  } catch (err) {
    showError($("#search-summary"), err);
  }
}

function closeIncident() {
  if (!S.incident) return;
  const opener = S.incident.opener;
  S.incident = null;
  $("#incident").hidden = true;
  if (opener && opener.isConnected) opener.focus();
}

function renderIncident() {
  if (!S.incident) return;
  const { shown, similar } = S.incident;
  const me = S.me.origin;
  const report = shown.report;
  const title = textIn(report.title);
  $("#incident-title").textContent = title ? title.main[1] : shown.title;
  if (title) $("#incident-title").lang = title.main[0];
  const description = textIn(report.description);
  const out = [
    shown.tlp ? sealedIncidentBox(shown) : null,
    el("dl", { class: "facts" },
      el("dt", {}, t("incidents.party_short")), el("dd", {}, shown.origin),
      el("dt", {}, t("incidents.id")), el("dd", {}, shown.incident_id),
      el("dt", {}, t("incidents.category")), el("dd", {}, shown.category),
      el("dt", {}, t("incidents.severity")), el("dd", {}, badge(t(`severity.${shown.severity}`), `sev-${shown.severity}`)),
      el("dt", {}, t("incidents.occurred")), el("dd", {}, when(shown.occurred)),
      el("dt", {}, t("incidents.critical")), el("dd", {}, t(shown.critical_infrastructure ? "common.yes" : "common.no")),
      el("dt", {}, t("incidents.harm_type")), el("dd", {}, (report.harm_types || []).join(", ") || "—"),
      el("dt", {}, t("incidents.sector")), el("dd", {}, (report.sectors || []).join(", ") || "—")),
    description ? el("p", { lang: description.main[0] }, description.main[1]) : null,
    el("h4", {}, t("incidents.stages")),
    el("ol", {}, shown.stages.map((s) => el("li", {}, `${t(`stage.${s.report.stage}`)} — ${when(s.issued)} (#${s.index})`))),
    el("h4", {}, t("incidents.clocks")),
    shown.clocks.length
      ? el("ul", {}, shown.clocks.map((c) => el("li", { class: c.state.includes("late") || c.state.includes("missed") ? "missed" : "" },
        `${c.regime}: ${c.name} — ${c.basis}; ${t("inbox.due", { at: when(c.due) })} `, badge(c.state, c.state.includes("late") ? "warn" : ""))))
      : el("p", { class: "help" }, t("common.none")),
    el("h4", {}, t("incidents.classifications")),
    shown.classifications.length
      ? el("ul", {}, shown.classifications.map((c) => el("li", {},
        `${party(c.by)} — ${c.namespace} ${c.taxonomy_version}: `,
        Object.entries(c.attributes).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(", ") : v}`).join("; "))))
      : el("p", { class: "help" }, t("common.none")),
    el("h4", {}, t("incidents.links")),
    shown.links.length ? el("ul", {}, shown.links.map((link) => linkItem(link, me))) : el("p", { class: "help" }, t("common.none")),
    el("h4", {}, t("incidents.duplicates")),
    similar.length
      ? el("ul", {}, similar.map((s) => duplicateItem(shown, s)))
      : el("p", { class: "help" }, t("incidents.no_duplicates")),
    el("p", { class: "result", role: "status", id: "incident-result" }),
  ];
  $("#incident-body").replaceChildren(...out.filter(Boolean));
}

function sealedMark(hit) {
  // A sealed incident's marking in a list: the lock and the TLP (whom it is sealed to: its page).
  return hit.tlp ? [el("span", { class: "lock", "aria-hidden": "true" }, "🔒"), " ",
    badge(t("sealed.label", { tlp: hit.tlp }), "warn"), " "] : null;
}

function sealedIncidentBox(shown) {
  // Its marking and readers (the reporter and the recipients), and what that means for what this
  // party says of it: sealed the same way.
  const readers = [shown.origin, ...(shown.sealed_to || []).filter((p) => p !== shown.origin)].map(party);
  return el("div", { class: "sealed sealed-incident" },
    el("p", {}, el("span", { class: "lock", "aria-hidden": "true" }, "🔒"), " ",
      badge(t("sealed.label", { tlp: shown.tlp }), "warn"), " ", t("sealed.to", { who: readers.join(", ") })),
    el("p", { class: "help" }, t("incidents.sealed_help")));
}

function linkItem(link, me) {
  const mine = link.source.origin === me || link.target.origin === me;
  const confirmed = link.confirmations.find((c) => c.by === me);
  const item = el("li", {},
    `${party(link.source.origin)}#${link.source.id} — ${t(`relation.${link.relation}`)} — ${party(link.target.origin)}#${link.target.id}`,
    " ", el("span", { class: "meta" }, t("incidents.asserted_by", { who: party(link.asserted_by) })), " ",
    link.confirmations.map((c) => [badge(`${party(c.by)}: ${t(`verdict.${c.verdict}`)}`, c.verdict === "confirm" ? "ok" : "bad"), " "]));
  if (mine && link.asserted_by !== me && !confirmed && canWrite()) {
    for (const verdict of ["confirm", "dispute"]) {
      item.append(" ", el("button", { type: "button", onclick: () => confirmLink(link, verdict) }, t(`incidents.${verdict}`)));
    }
  }
  return item;
}

function duplicateItem(shown, s) {
  const linked = shown.links.some((l) => (l.source.id === s.incident_id && l.source.origin === s.origin)
    || (l.target.id === s.incident_id && l.target.origin === s.origin));
  return el("li", {},
    sealedMark(s), el("button", { type: "button", class: "link", onclick: () => openIncident(s.origin, s.incident_id) }, s.title),
    ` — ${party(s.origin)}#${s.incident_id} — ${t("incidents.score", { score: s.score.toFixed(2) })} `,
    linked ? badge(t("incidents.linked"), "ok") : !canWrite() ? ""
      : el("button", { type: "button", onclick: () => confirmDuplicate(shown, s) }, t("incidents.confirm_duplicate")));
}

async function confirmDuplicate(shown, s) {
  const link = {
    source: { origin: shown.origin, id: shown.incident_id },
    target: { origin: s.origin, id: s.incident_id },
    relation: "duplicate-of",
  };
  await incidentAction(() => api("POST", "/api/v1/incident/links", { json: link }), t("incidents.duplicate_done"));
}

async function confirmLink(link, verdict) {
  const body = { origin: link.asserted_by, index: link.index, verdict };
  await incidentAction(() => api("POST", "/api/v1/incident/links/confirm", { json: body }), t(`incidents.${verdict}_done`));
}

async function incidentAction(action, message) {
  const { shown } = S.incident;
  try {
    await action();
    await openIncident(shown.origin, shown.incident_id);
    $("#incident-result").textContent = message;
  } catch (err) {
    $("#incident-result").textContent = t("common.error", { detail: err.message });
  }
}

// --- verification -------------------------------------------------------------------------

async function loadVerification() {
  const [logs, status, alarms] = await Promise.all([
    api("GET", "/api/v1/logs"), api("GET", "/api/v1/status"), api("GET", "/api/v1/alarms"),
  ]);
  S.logs = logs;
  S.status = status;
  S.alarms = alarms;
  renderVerification();
}

function renderVerification() {
  if (!S.logs) return;
  const alarms = $("#alarms");
  if (S.alarms.length) {
    alarms.replaceChildren(el("div", { class: "alarm", role: "alert" },
      el("h3", {}, t("verification.alarms", { n: S.alarms.length })),
      el("ul", {}, S.alarms.map((a) => el("li", {}, `${a.origin}: ${a.kind} — ${a.detail} (${when(a.at)})`)))));
  } else {
    alarms.replaceChildren(el("p", { class: "ok-line" }, badge(t("verification.no_alarms"), "ok")));
  }
  const peers = Object.fromEntries(S.status.peers.map((p) => [p.origin, p]));
  $("#logs-table tbody").replaceChildren(...S.logs.map((log) => {
    const peer = peers[log.origin];
    const sync = log.own ? t("verification.own")
      : peer ? [when(peer.last_sync), peer.last_error ? [" ", badge(peer.last_error, "bad")] : null,
        peer.quarantined ? [" ", badge(t("verification.quarantined", { n: peer.quarantined }), "bad")] : null] : "—";
    return el("tr", {},
      el("th", { scope: "row" }, `${log.party} `, el("span", { class: "meta" }, log.origin)),
      el("td", {}, String(log.size), log.served_size !== undefined && log.served_size !== log.size
        ? el("span", { class: "meta" }, ` ${t("verification.served", { n: log.served_size })}`) : ""),
      el("td", { class: "mono" }, log.root ? `${log.root.slice(0, 16)}…` : "—"),
      el("td", {}, log.cosigned_by.join(", ") || "—"),
      el("td", {}, log.quorum_met ? badge(t("verification.quorum_met"), "ok") : badge(t("verification.quorum_not_met"), "bad"),
        log.problem ? [" ", badge(log.problem, "bad")] : null),
      el("td", {}, sync));
  }));
  $("#checkpoints").replaceChildren(...S.logs.filter((l) => l.checkpoint).map((log) => el("details", {},
    el("summary", {}, t("verification.checkpoint", { party: log.party })),
    el("pre", { class: "mono" }, log.checkpoint))));
}

async function runAudit() {
  const button = $("#audit-run");
  const out = $("#audit-result");
  button.disabled = true;
  out.replaceChildren(el("p", {}, t("verification.auditing")));
  try {
    S.audit = await api("POST", "/api/v1/audit");
    renderAudit();
  } catch (err) {
    S.audit = null;
    showError(out, err);
  } finally {
    button.disabled = false;
  }
}

function renderAudit() {
  if (!S.audit) return;
  const a = S.audit;
  const served = a.served;
  $("#audit-result").replaceChildren(
    el("h3", { class: a.clean ? "ok-line" : "bad-line" },
      badge(t(a.clean ? "verification.audit_clean" : "verification.audit_problems"), a.clean ? "ok" : "bad")),
    el("table", {},
      el("caption", {}, t("verification.audit_stored")),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("verification.party")), el("th", { scope: "col" }, t("verification.size")),
        el("th", { scope: "col" }, t("verification.records")), el("th", { scope: "col" }, t("verification.result")))),
      el("tbody", {}, a.stored.map((s) => el("tr", {},
        el("th", { scope: "row" }, s.party), el("td", {}, String(s.size ?? "—")), el("td", {}, String(s.records_verified ?? "—")),
        el("td", {}, s.ok ? badge(t("verification.ok"), "ok") : badge(s.failures.join("; "), "bad")))))),
    el("table", {},
      el("caption", {}, t("verification.audit_served")),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("verification.log")), el("th", { scope: "col" }, t("verification.size")),
        el("th", { scope: "col" }, t("verification.records")), el("th", { scope: "col" }, t("verification.cosigned")),
        el("th", { scope: "col" }, t("verification.result")))),
      el("tbody", {}, served.logs.map((l) => el("tr", {},
        el("th", { scope: "row" }, l.origin), el("td", {}, String(l.size)), el("td", {}, String(l.records)),
        el("td", {}, l.cosigned_by.map((w) => w.replace(/^w-/, "")).join(", ") || "—"),
        el("td", {}, l.problems.length ? badge(l.problems.join("; "), "bad") : badge(t("verification.ok"), "ok")))))),
    el("p", {}, t("verification.references", { n: served.references_checked })),
    served.problems.length ? el("ul", { class: "bad-line" }, served.problems.map((p) => el("li", {}, p))) : "");
}

// --- evaluations --------------------------------------------------------------------------

async function loadEvals() {
  S.evals = await api("GET", "/api/v1/evals");
  renderEvals();
}

function evalLabel(r) {
  if (!r.verified) return `${party(r.origin)} #${r.index} — ${t("evals.unverified")}`;
  return `${party(r.origin)} #${r.index} — ${r.suite} — ${r.model} — ${t(r.passed ? "evals.passed" : "evals.failed")}`;
}

function renderEvals() {
  const options = S.evals.map((r, i) => el("option", { value: String(i) }, evalLabel(r)));
  for (const [sel, pick] of [["#e-a", 0], ["#e-b", 1]]) {
    const select = $(sel);
    const keep = select.value;
    select.replaceChildren(...options.map((o) => o.cloneNode(true)));
    select.value = keep || String(Math.min(pick, Math.max(0, options.length - 1)));
  }
  $("#evals-empty").hidden = S.evals.length > 0;
  renderCompare();
}

async function compareEvals(ev) {
  ev.preventDefault();
  const a = S.evals[Number($("#e-a").value)];
  const b = S.evals[Number($("#e-b").value)];
  if (!a || !b) {
    $("#compare-result").replaceChildren(el("p", { class: "error" }, t("evals.pick_two")));
    return;
  }
  const params = new URLSearchParams({ a_origin: a.origin, a_index: a.index, b_origin: b.origin, b_index: b.index });
  try {
    S.compare = await api("GET", `/api/v1/evals/compare?${params}`);
    renderCompare();
  } catch (err) {
    S.compare = null;
    showError($("#compare-result"), err);
  }
}

function metricCell(m) {
  const ci = m.ci95 ? ` [${m.ci95[0].toFixed(3)}–${m.ci95[1].toFixed(3)}]` : "";
  return `${Number(m.value).toFixed(3)}${ci}`;
}

function renderCompare() {
  if (!S.compare) return;
  const c = S.compare;
  $("#compare-result").replaceChildren(
    el("table", {},
      el("caption", {}, t("evals.caption", { a: `${party(c.a.origin)} #${c.a.index}`, b: `${party(c.b.origin)} #${c.b.index}` })),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("evals.metric")), el("th", { scope: "col" }, t("evals.a")),
        el("th", { scope: "col" }, t("evals.b")), el("th", { scope: "col" }, t("evals.difference")),
        el("th", { scope: "col" }, t("evals.flag")))),
      el("tbody", {}, c.metrics.map((m) => el("tr", { class: m.significant ? "missed" : "" },
        el("th", { scope: "row" }, m.metric), el("td", {}, metricCell(m.a)), el("td", {}, metricCell(m.b)),
        el("td", {}, String(m.difference)),
        el("td", {}, m.significant ? badge(t("evals.apart"), "bad") : t("evals.overlap")))))));
}

// --- labels -------------------------------------------------------------------------------

const MIME_BY_EXT = { txt: "text/plain", md: "text/plain", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png",
  mp3: "audio/mpeg", mp4: "video/mp4", pdf: "application/pdf", wav: "audio/wav", webp: "image/webp" };

async function checkLabels(ev) {
  ev.preventDefault();
  const file = $("#l-file").files[0];
  const out = $("#labels-result");
  if (!file) {
    out.replaceChildren(el("p", { class: "error", role: "alert" }, t("labels.pick")));
    $("#l-file").focus();
    return;
  }
  const ext = file.name.split(".").pop().toLowerCase();
  const mime = file.type || MIME_BY_EXT[ext] || "application/octet-stream";
  out.replaceChildren(el("p", {}, t("labels.checking")));
  try {
    S.labels = await api("POST", `/api/v1/labels/check?${new URLSearchParams({ mime })}`, {
      body: await file.arrayBuffer(), headers: { "Content-Type": mime },
    });
    S.labels.file = file.name;
    renderLabels();
  } catch (err) {
    S.labels = null;
    showError(out, err);
  }
}

function renderLabels() {
  if (!S.labels) return;
  const r = S.labels;
  const lang = S.lang === "zh" ? "zh" : "en";
  $("#labels-result").replaceChildren(
    el("p", {}, t("labels.summary", { file: r.file, mime: r.mime, kind: r.kind, size: r.size })),
    el("p", { class: "mono" }, `sha256 ${r.sha256}`),
    ...r.regimes.map((g) => el("section", { class: "regime", "aria-label": g.regime },
      el("h3", {}, `${t(`regime.${g.regime}`)} `, badge(t(`verdict.${g.verdict}`), g.verdict === "pass" ? "ok" : g.verdict === "fail" ? "bad" : "")),
      el("p", { class: "meta" }, `${g.guideline.id} ${g.guideline.version}`),
      g.failed.length ? el("p", {}, t("labels.failed", { rules: g.failed.join(", ") })) : null,
      el("table", {},
        el("thead", {}, el("tr", {},
          el("th", { scope: "col" }, t("labels.rule")), el("th", { scope: "col" }, t("labels.level")),
          el("th", { scope: "col" }, t("labels.outcome")), el("th", { scope: "col" }, t("labels.detail")))),
        el("tbody", {}, g.rules.map((rule) => el("tr", { class: rule.outcome === "fail" ? "missed" : "" },
          el("th", { scope: "row" }, rule.title ? rule.title[lang] || rule.title.en : rule.rule_id,
            el("div", { class: "meta mono" }, rule.rule_id)),
          el("td", {}, rule.level), el("td", {}, rule.outcome), el("td", {}, rule.detail || "—"))))))));
}

// --- export controls ----------------------------------------------------------------------

async function loadExportCatalogue() {
  if ($("#x-catalogue").children.length) return;
  const items = await api("GET", "/api/v1/exportctl/catalogue");
  $("#x-catalogue").replaceChildren(...items.map((item) => el("option", { value: item.name })));
}

async function classifyItem(ev) {
  ev.preventDefault();
  const body = {};
  const name = $("#x-name").value.trim();
  if (name) body.name = name;
  const item = {};
  const tops = parseFloat($("#x-tops").value);
  const bits = parseInt($("#x-bits").value, 10);
  if (tops > 0 && bits > 0) item.dense = [[tops, bits]];
  const die = parseFloat($("#x-die").value);
  if (die > 0) item.die_area_mm2 = die;
  if ($("#x-dc").checked) item.datacenter = true;
  if (Object.keys(item).length) body.item = item;
  if ($("#x-asof").value) body.as_of = $("#x-asof").value;
  try {
    S.exportctl = await api("POST", "/api/v1/exportctl/classify", { json: body });
    renderExport();
  } catch (err) {
    S.exportctl = null;
    showError($("#exportctl-result"), err);
  }
}

function renderExport() {
  if (!S.exportctl) return;
  const c = S.exportctl;
  $("#exportctl-result").replaceChildren(
    el("p", {}, t("exportctl.summary", { name: c.item.name, as_of: c.as_of, tpp: c.figures.tpp ?? "—" })),
    exportUnverified(c.unverified || []),
    ...c.regimes.map((r) => el("section", { class: "regime", "aria-label": r.regime },
      el("h3", {}, `${t(`regime.${r.regime}`)} `, badge(r.entries.length ? t("exportctl.controlled") : t("exportctl.not_listed"),
        r.entries.length ? "bad" : "ok")),
      el("p", {}, r.verdict),
      el("p", { class: "meta" }, t("exportctl.pack", { version: r.pack_version })),
      r.clauses.filter((cl) => cl.outcome === "matched" || cl.outcome === "near").length
        ? el("ul", {}, r.clauses.filter((cl) => cl.outcome === "matched" || cl.outcome === "near")
          .map((cl) => el("li", {}, badge(cl.outcome, cl.outcome === "matched" ? "bad" : "warn"), ` ${cl.id} — ${cl.title}`)))
        : null,
      exportLetters(r.is_informed_letters || []),
      exportLists(r.lists || []))),
    el("p", { class: "exportctl-reminder", role: "note" }, el("strong", {}, `${t("exportctl.reminder")} `),
      (c.reminder || {})[S.lang === "zh" ? "zh" : "en"] || ""),
    el("details", {}, el("summary", {}, t("exportctl.full")), el("pre", {}, c.text)));
}

// Facts the answer relies on that were not verified against a primary source (data text is English).
function exportUnverified(facts) {
  if (!facts.length) return null;
  return el("div", { class: "exportctl-unverified", role: "note" },
    el("p", {}, badge(t("exportctl.unverified_badge"), "warn"), ` ${t("exportctl.unverified", { n: facts.length })}`),
    el("ul", { lang: "en" }, facts.map((u) => el("li", {}, el("strong", {}, u.where), `: ${u.fact} — ${u.reason}`))));
}

// Licence requirements set by letters to individual companies (is-informed letters).
function exportLetters(letters) {
  if (!letters.length) return null;
  return el("div", { class: "exportctl-letters" }, el("h4", {}, t("exportctl.letters")),
    el("ul", {}, letters.map((l) => el("li", {},
      l.verified ? null : [badge(t("exportctl.unverified_badge"), "warn"), " "],
      el("strong", {}, l.id), ` — ${l.addressee} (${t("exportctl.letter_dates", { informed: l.informed, effective: l.effective })}): `,
      el("span", { lang: "en" }, l.requirement), el("div", { class: "meta", lang: "en" }, `${l.binds}. ${l.quality}`)))));
}

// China's lists a cn-ecl answer names (items list, controlled parties, unreliable entities).
function exportLists(lists) {
  if (!lists.length) return null;
  return el("div", { class: "exportctl-lists" }, el("h4", {}, t("exportctl.lists")),
    el("ul", {}, lists.map((x) => {
      const last = x.announcements[x.announcements.length - 1];
      return el("li", {}, el("strong", {}, S.lang === "zh" ? x.title_zh : x.title), ` (${t("exportctl.since", { date: x.since })})`,
        last ? el("div", { class: "meta", lang: "en" }, `${last.published}: ${last.number}`) : null);
    })));
}

// --- quarterly report -----------------------------------------------------------------------

function reportPeriod() {
  return $("#r-period").value.trim().toUpperCase();
}

async function showReport(ev) {
  ev.preventDefault();
  try {
    const figures = await api("GET", `/api/v1/reports/quarterly/${encodeURIComponent(reportPeriod())}`);
    const rows = Object.entries(figures)
      .filter(([, v]) => v && typeof v === "object" && !Array.isArray(v) && typeof v.total === "number")
      .map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, String(v.total))));
    $("#report-result").replaceChildren(
      el("p", {}, t("report.summary", { period: figures.period })),
      el("table", {}, el("caption", {}, figures.period), el("tbody", {}, ...rows)),
      el("details", {}, el("summary", {}, "JSON"), el("pre", {}, JSON.stringify(figures, null, 2))));
  } catch (err) {
    showError($("#report-result"), err);
  }
}

async function downloadReport(kind) {
  const period = reportPeriod();
  const lang = $("#r-lang").value;
  try {
    const resp = await fetch(`/api/v1/reports/quarterly/${encodeURIComponent(period)}.${kind}?lang=${lang}`, {
      headers: { Authorization: `Bearer ${S.token}` }, cache: "no-store" });
    if (!resp.ok) throw new Error((await resp.json()).detail || resp.statusText);
    const url = URL.createObjectURL(await resp.blob());
    const name = `detente-${period}.${kind}`;
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say(t("report.downloaded", { name }));
  } catch (err) {
    showError($("#report-result"), err);
  }
}

async function publishReport() {
  try {
    const out = await api("POST",
      `/api/v1/reports/quarterly/${encodeURIComponent(reportPeriod())}/publish?lang=${$("#r-lang").value}`);
    $("#report-result").replaceChildren(el("p", {}, t("report.published", { index: out.index, html: out.html_sha256 })));
  } catch (err) {
    showError($("#report-result"), err);
  }
}

// --- wiring -------------------------------------------------------------------------------

function rerender() {
  applyI18n();
  renderWhoami();
  if (!S.me) return;
  renderInbox();
  renderCompose();
  renderSearch();
  renderIncident();
  renderVerification();
  renderAudit();
  if (S.view === "evals") renderEvals();
  renderLabels();
  renderExport();
  fillFacets();
  for (const name of Object.keys(S.registers)) renderRegister(name);
}

async function main() {
  // The language can be chosen before the strings have arrived (or this script ran): the choice is
  // kept, never reset.
  if ($("#lang").value !== "en") S.lang = $("#lang").value;
  $("#lang").addEventListener("change", () => {
    S.lang = $("#lang").value;
    sessionStorage.setItem(LANG_KEY, S.lang);
    if (!S.stringsLoaded) return;
    rerender();
    say(t("app.language_set"));
  });
  // The sign-in form is handled before anything is awaited: a token typed and submitted while the
  // strings are still on their way is never submitted by the browser itself (a GET that would put
  // the token in the address bar, the history and the server's access log).
  const strings = fetch("/console/i18n.json", { cache: "no-cache" })
    .then((resp) => resp.json())
    .then((table) => {
      S.strings = table;
      S.stringsLoaded = true;
      if (!(S.lang in S.strings)) S.lang = "en";
      applyI18n();
    })
    .catch(() => {});  // without the strings, the keys show; the console still works
  $("#signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await strings;
    const token = $("#token").value.trim();
    $("#signin-error").textContent = "";
    if (!token) {
      $("#signin-error").textContent = t("signin.empty");
      return;
    }
    try {
      await signIn(token);
      say(t("signin.done", { party: S.me.party }));
      $("#views button").focus();
    } catch (err) {
      $("#signin-error").textContent = t("signin.failed", { detail: err.message });
    }
  });
  await strings;
  $("#signout").addEventListener("click", () => signOut());
  for (const button of $$("#views button")) button.addEventListener("click", () => showView(button.dataset.view));
  $("#c-type").addEventListener("change", composeType);
  $("#compose-form").addEventListener("submit", previewCompose);
  $("#compose-form").addEventListener("input", hidePreview);
  $("#c-confirm").addEventListener("click", confirmCompose);
  $("#c-edit").addEventListener("click", () => { hidePreview(); $("#c-type").focus(); });
  $("#notify-enable").addEventListener("click", () => enableNotifications().catch(() => {}));
  $("#inbox-more").addEventListener("click", moreInbox);
  $("#search-form").addEventListener("submit", searchIncidents);
  $("#incident-close").addEventListener("click", closeIncident);
  $("#audit-run").addEventListener("click", runAudit);
  $("#compare-form").addEventListener("submit", compareEvals);
  $("#labels-form").addEventListener("submit", checkLabels);
  $("#exportctl-form").addEventListener("submit", classifyItem);
  $("#report-form").addEventListener("submit", showReport);
  $("#r-html").addEventListener("click", () => downloadReport("html"));
  $("#r-pdf").addEventListener("click", () => downloadReport("pdf"));
  $("#r-publish").addEventListener("click", publishReport);
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    if (S.incident && !$("#incident").hidden) closeIncident();
    else if ($("#compose").open) {
      $("#compose").open = false;
      $("#compose summary").focus();
    }
  });
  setInterval(tick, 1000);
  setInterval(() => { if (S.me) refreshStatus(); }, 30_000);  // peer health: a silence makes no event
  if (S.token) {
    try {
      await signIn(S.token);
    } catch {
      signOut(t("signin.expired"));
    }
  }
  document.body.dataset.ready = "1";
}

main();
