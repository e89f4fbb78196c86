// The operator console: plain JavaScript over the HTTP API, no build step. Every request carries the bearer
// token kept in this browser's localStorage; the room stream is read with fetch (EventSource cannot send a
// header) and resumed with Last-Event-ID after a drop. Text from the API is only ever set as textContent.

const TOKEN_KEY = "substrate.token";
const PAGE = 25;
const STATUSES = ["queued", "running", "waiting", "succeeded", "failed", "cancelled", "timed_out"];

let stopStream = null;

// ---- token -------------------------------------------------------------------------------------------

// A sign-in link carries the token in the fragment, "/#token=sbt_…", optionally followed by a view,
// "/#token=sbt_…#/runs": a fragment is never sent to the server, so the token stays out of access logs and
// Referer headers. A token in the query string (?token=) is not taken: it has been sent already; it is only
// removed from the address bar. A link's token replaces a different stored one only when the user agrees.
function takeTokenFromAddress() {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
  if (!location.hash.startsWith("#token=")) return;
  const fragment = location.hash.slice("#token=".length);
  const end = fragment.indexOf("#");
  const offered = decodeURIComponent(end < 0 ? fragment : fragment.slice(0, end)).trim();
  const view = end < 0 ? "" : fragment.slice(end);
  history.replaceState(null, "", location.pathname + location.search + view);
  const stored = token();
  if (!offered || offered === stored) return;
  if (stored && !window.confirm("This link signs you in with another token. Replace the token this browser keeps?")) return;
  localStorage.setItem(TOKEN_KEY, offered);
}

function token() {
  return localStorage.getItem(TOKEN_KEY);
}

class Unauthenticated extends Error {}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : "HTTP " + status);
    this.status = status;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token(), Accept: "application/json" } });
  if (response.status === 401) {
    throw new Unauthenticated();
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, body);
  }
  return body;
}

// An append: the decision the fold made ({ status, body }), or what refused the request before it reached the log.
async function apiPost(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { Authorization: "Bearer " + token(), Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 401) {
    throw new Unauthenticated();
  }
  return { status: response.status, body: await response.json().catch(() => null) };
}

// Who the token acts as, asked once per sign-in: the actions are shown only to tokens whose role may append.
let whoamiCache = null;
async function whoami() {
  if (!whoamiCache || whoamiCache.token !== token()) {
    whoamiCache = { token: token(), answer: await api("/v1/whoami") };
  }
  return whoamiCache.answer;
}

// A button that appends `event` to an entity after the user confirms, shows the fold's decision in place, and
// calls `then` once the event is applied.
function actionButton(id, text, confirmText, path, event, then) {
  const outcome = h("span", { class: "action-outcome", id: id + "-outcome" });
  const button = h("button", { class: "action", id, type: "button", onclick: async () => {
    if (!window.confirm(confirmText)) return;
    button.disabled = true;
    outcome.textContent = "appending…";
    outcome.className = "action-outcome";
    try {
      const { status, body } = await apiPost(path + "?wait=applied", event);
      if (status === 200) {
        outcome.textContent = "Applied" + (body.state && body.state.status ? ": now " + body.state.status : "") + ".";
        outcome.classList.add("applied");
        if (then) setTimeout(then, 800);
        return;
      }
      outcome.classList.add("refused");
      outcome.textContent = status === 409
        ? "Refused (" + (body && body.reason) + "): " + (body && body.detail)
        : status === 202 ? "Accepted, not decided yet: reload in a moment."
        : "Not appended (" + status + "): " + (body && body.detail ? body.detail : "");
    } catch (error) {
      outcome.classList.add("refused");
      outcome.textContent = error.message;
    }
    button.disabled = false;
  } }, text);
  return h("span", { class: "action-wrap" }, button, outcome);
}

// ---- DOM helpers ---------------------------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const enc = encodeURIComponent;
const link = (href, text) => h("a", { href }, text);
const runLink = (id) => (id ? link("#/runs/" + enc(id), id) : "—");
const roomLink = (id) => (id ? link("#/rooms/" + enc(id), id) : "—");
const artifactLink = (id) => (id ? link("#/artifacts/" + enc(id), id) : "—");
const badge = (status) => h("span", { class: "badge " + status, "data-status": status }, status);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const labels = (map) =>
  Object.keys(map || {}).length === 0
    ? h("span", { class: "muted" }, "—")
    : Object.entries(map).map(([k, v]) => h("code", {}, k + "=" + v + " "));

function facts(rows) {
  return h("dl", { class: "facts" }, rows.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function table(headers, rows, empty) {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((name) => h("th", {}, name)))), h("tbody", {}, rows));
}

function show(...children) {
  const view = document.getElementById("view");
  view.replaceChildren(...children.flat(Infinity));
}

// ---- views ---------------------------------------------------------------------------------------------

function tokenView(message) {
  const input = h("input", { type: "password", id: "token-input", placeholder: "sbt_…", autocomplete: "off" });
  const save = async (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, input.value.trim());
    route();
  };
  show(
    h(
      "form",
      { class: "token-form", id: "token-form", onsubmit: save },
      h("h1", {}, "Sign in"),
      h("p", {}, "Paste a bearer token (", h("code", {}, "./substrate tokens create"), " prints one; ",
        h("code", {}, "substrate dev"), " keeps the admin token in ", h("code", {}, ".substrate/admin.token"), ")."),
      message ? h("p", { class: "error" }, message) : null,
      input,
      h("button", { class: "primary", type: "submit" }, "Use this token"),
      h("p", { class: "muted" }, "It is kept in this browser's local storage until you forget it."),
    ),
  );
  input.focus();
}

const RUN_FILTERS = ["status", "project", "label", "correlationId", "waitingOn", "interrupt"];
const WAITING_KINDS = ["approval", "input", "resource", "dependency", "schedule"];

async function runsView(query) {
  const filters = {};
  for (const field of RUN_FILTERS) filters[field] = query.get(field) || "";
  const params = new URLSearchParams({ limit: PAGE });
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (query.get("cursor")) params.set("cursor", query.get("cursor"));
  // The counts per status answer the same filters but the status itself: how the rest are spread.
  const countParams = new URLSearchParams({ groupBy: "status" });
  for (const [name, value] of Object.entries(filters)) if (value && name !== "status") countParams.set(name, value);
  const [page, counts] = await Promise.all([api("/v1/runs?" + params), api("/v1/runs/counts?" + countParams)]);
  const form = h(
    "form",
    { class: "filters", id: "run-filters", onsubmit: (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      for (const field of RUN_FILTERS) {
        const value = form.elements[field].value.trim();
        if (value) next.set(field, value);
      }
      location.hash = "#/runs" + (next.toString() ? "?" + next : "");
    } },
    h("label", {}, "Status", h("select", { name: "status" }, h("option", { value: "" }, "any"),
      STATUSES.map((status) => h("option", { value: status, selected: status === filters.status }, status)))),
    h("label", {}, "Project", h("input", { name: "project", value: filters.project, placeholder: "project:acme/web" })),
    h("label", {}, "Label", h("input", { name: "label", value: filters.label, placeholder: "key:value" })),
    h("label", {}, "Correlation id", h("input", { name: "correlationId", value: filters.correlationId })),
    h("label", {}, "Waiting on", h("select", { name: "waitingOn" }, h("option", { value: "" }, "any"),
      WAITING_KINDS.map((kind) => h("option", { value: kind, selected: kind === filters.waitingOn }, kind)))),
    h("label", {}, "Interrupts", h("select", { name: "interrupt" }, h("option", { value: "" }, "any"),
      h("option", { value: "open", selected: filters.interrupt === "open" }, "open: to answer"))),
    h("button", { class: "primary", type: "submit" }, "Filter"),
  );
  const byStatus = (status) => {
    const next = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value && name !== "status") next.set(name, value);
    if (status) next.set("status", status);
    return "#/runs" + (next.toString() ? "?" + next : "");
  };
  const summary = h("div", { class: "counts", id: "run-counts" },
    h("a", { href: byStatus(""), class: filters.status ? "" : "active", "data-count": "total" }, "all " + counts.total),
    STATUSES.filter((status) => counts.counts[status]).map((status) =>
      h("a", { href: byStatus(status), class: status === filters.status ? "active" : "", "data-count": status },
        badge(status), " " + counts.counts[status])));
  const rows = page.items.map((run) =>
    h("tr", { "data-run": run.runId },
      h("td", {}, runLink(run.runId)),
      h("td", {}, badge(run.status), openInterrupts(run).length
        ? h("span", { class: "to-answer", "data-open-interrupts": openInterrupts(run).length }, " " + openInterrupts(run).length + " to answer")
        : null),
      h("td", {}, run.project),
      h("td", {}, labels(run.labels)),
      h("td", {}, when(run.timestamps.createdAt)),
      h("td", {}, when(run.timestamps.updatedAt))),
  );
  show(
    h("h1", {}, "Runs"),
    form,
    summary,
    table(["run", "status", "project", "labels", "created", "updated"], rows, "No runs match."),
    pager("#/runs", filters, query, page.nextCursor),
  );
}

function pager(base, filters, query, nextCursor) {
  const keep = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) keep.set(name, value);
  const first = base + (keep.toString() ? "?" + keep : "");
  const items = [];
  if (query.get("cursor")) items.push(link(first, "First page"));
  if (nextCursor) {
    keep.set("cursor", nextCursor);
    items.push(h("a", { href: base + "?" + keep, id: "next-page" }, "Next page"));
  }
  return h("div", { class: "pager" }, items);
}

const TERMINAL = ["succeeded", "failed", "cancelled", "timed_out"];

async function runView(runId) {
  const [run, history, artifacts, rooms, children, me, usage, tree] = await Promise.all([
    api("/v1/runs/" + enc(runId)),
    api("/v1/runs/" + enc(runId) + "/events?limit=1000"),
    api("/v1/artifacts?limit=100&runId=" + enc(runId)),
    api("/v1/rooms?limit=100&runId=" + enc(runId)),
    api("/v1/runs?limit=100&parentRunId=" + enc(runId)),
    whoami(),
    api("/v1/usage?groupBy=model&runId=" + enc(runId)),
    treeUsage(runId),
  ]);
  const reload = () => route();
  const actions = [];
  const open = openInterrupts(run);
  if (me.mayAppend && run.status === "waiting" && !open.length) {
    actions.push(actionButton("approve", "Approve", "Approve run " + run.runId + "? It resumes running.",
      "/v1/runs/" + enc(runId) + "/events",
      { type: "RunResumed", detail: "approved by " + me.principal, expectedVersion: run.version }, reload));
  }
  if (me.mayAppend && !TERMINAL.includes(run.status)) {
    actions.push(actionButton("cancel", "Cancel run", "Cancel run " + run.runId + "? This cannot be undone.",
      "/v1/runs/" + enc(runId) + "/events",
      { type: "RunCancelled", reason: "cancelled by " + me.principal, expectedVersion: run.version }, reload));
  }
  const callouts = [];
  if (run.waitingOn) {
    callouts.push(h("div", { class: "callout waiting", id: "waiting-on" }, h("strong", {}, "Waiting on " + run.waitingOn.kind + ": "),
      run.waitingOn.detail, h("span", { class: "muted" }, " since " + when(run.waitingOn.since))));
  }
  for (const interrupt of open) callouts.push(interruptCallout(run, interrupt, me.mayAppend, reload));
  if (run.failure) {
    callouts.push(h("div", { class: "callout failure", id: "failure" }, h("strong", {}, "Failed: " + run.failure.code + " "),
      run.failure.message, run.failure.retryable ? h("span", { class: "muted" }, " (retryable)") : null,
      run.failure.detail ? h("pre", {}, run.failure.detail) : null));
  }
  if (run.result) {
    callouts.push(h("div", { class: "callout result", id: "result" }, h("strong", {}, "Result: "), run.result.summary,
      run.result.artifactIds.length ? h("div", {}, "Artifacts: ", run.result.artifactIds.map((id) => [artifactLink(id), " "])) : null));
  }
  if (run.endReason) callouts.push(h("div", { class: "callout" }, "Ended: " + run.endReason));
  const sessionRooms = new Set([run.sessionRoomId, ...rooms.items.map((room) => room.roomId)].filter(Boolean));
  show(
    h("h1", {}, "Run ", h("span", { class: "mono" }, run.runId), " ", badge(run.status)),
    actions.length ? h("div", { class: "actions", id: "run-actions" }, actions) : null,
    callouts,
    facts([
      ["Project", run.project],
      ["Scope", run.scope],
      ["Task", run.taskId || "—"],
      ["Parent run", runLink(run.parentRunId)],
      ["Session room", run.sessionRoomId ? roomLink(run.sessionRoomId) : "—"],
      ["Activation", run.activation.surface + (run.activation.actor ? " by " + run.activation.actor : "")],
      run.where ? ["Where", [run.where.executor, run.where.host, run.where.environment].filter(Boolean).join(" · ")] : null,
      ["Labels", labels(run.labels)],
      ["Cost", h("span", { id: "run-cost" }, usage.total.events
        ? usage.total.inputTokens + " in / " + usage.total.outputTokens + " out tokens · " + costText(usage.total)
          + " (" + usage.groups.map((group) => group.key).join(", ") + ")"
        : "none recorded")],
      tree.runs > 1 ? ["With child runs", h("span", { id: "tree-cost" }, tree.usage.total.inputTokens + " in / "
        + tree.usage.total.outputTokens + " out tokens · " + costText(tree.usage.total) + " over " + tree.runs + " runs")] : null,
      ["Created", when(run.timestamps.createdAt)],
      ["Updated", when(run.timestamps.updatedAt)],
      ["Version", String(run.version)],
    ]),
    (run.interrupts || []).length ? [h("h2", {}, "Interrupts"), table(["interrupt", "reason", "status", "answered by", "answer"],
      run.interrupts.map((interrupt) => h("tr", { "data-interrupt": interrupt.interruptId },
        h("td", { class: "mono" }, interrupt.interruptId),
        h("td", {}, interrupt.reason + (interrupt.message ? ": " + interrupt.message : "")),
        h("td", {}, interrupt.status),
        h("td", {}, interrupt.answeredBy || "—"),
        h("td", {}, interrupt.payload === null || interrupt.payload === undefined ? "—" : h("code", {}, JSON.stringify(interrupt.payload))))),
      "None.")] : null,
    h("h2", {}, "Timeline"),
    table(["time", "event", "actor", "details"], history.items.map((event) => {
      const { type, ...details } = event.payload;
      return h("tr", { class: "timeline-entry", "data-type": type },
        h("td", {}, when(event.occurredAt)),
        h("td", {}, h("strong", {}, type)),
        h("td", {}, event.actor),
        h("td", {}, h("code", {}, compact(details))));
    }), "No events."),
    h("h2", {}, "Rooms"),
    sessionRooms.size ? h("ul", {}, [...sessionRooms].map((id) => h("li", {}, roomLink(id)))) : h("p", { class: "muted" }, "None."),
    h("h2", {}, "Child runs"),
    h("div", { id: "children" }, table(["run", "status", "updated"], children.items.map((child) =>
      h("tr", {}, h("td", {}, runLink(child.runId)), h("td", {}, badge(child.status)), h("td", {}, when(child.timestamps.updatedAt)))),
      "None.")),
    h("h2", {}, "Artifacts"),
    artifactTable(artifacts.items),
  );
}

function openInterrupts(run) {
  return (run.interrupts || []).filter((interrupt) => interrupt.status === "open");
}

// One open interrupt: its prompt, and, for a token that may append, a form derived from its responseSchema (a
// field per property of an object schema: a checkbox for a boolean, a list for an enum, a number or text box;
// JSON text for anything else), sent to POST /v1/runs/{id}/interrupts/{interruptId}/answer. The schema is checked
// by the server, which names what an answer breaks.
function interruptCallout(run, interrupt, mayAnswer, reload) {
  const schema = interrupt.responseSchema;
  const properties = schema && schema.type === "object" && schema.properties ? Object.entries(schema.properties) : null;
  const required = new Set((schema && schema.required) || []);
  const fields = properties
    ? properties.map(([name, property]) => {
      const label = name + (required.has(name) ? " *" : "") + (property.description ? " — " + property.description : "");
      let input;
      if (property.type === "boolean") input = h("input", { type: "checkbox", name, "data-kind": "boolean" });
      else if (Array.isArray(property.enum)) {
        input = h("select", { name, "data-kind": "enum" }, h("option", { value: "" }, "—"),
          property.enum.map((value) => h("option", { value: JSON.stringify(value) }, String(value))));
      } else if (property.type === "number" || property.type === "integer") input = h("input", { type: "number", name, "data-kind": "number" });
      else if (property.type === "string") input = h("input", { name, "data-kind": "string" });
      else input = h("textarea", { name, "data-kind": "json", placeholder: "JSON" });
      return h("label", {}, label, input);
    })
    : [h("label", {}, schema ? "Answer (JSON, per the schema below)" : "Answer (JSON, optional)",
      h("textarea", { name: "payload", "data-kind": "json", placeholder: "JSON" }))];
  const outcome = h("span", { class: "action-outcome" });
  const payload = (form) => {
    if (!properties) {
      const text = form.elements.payload.value.trim();
      return text ? JSON.parse(text) : undefined;
    }
    const value = {};
    for (const [name] of properties) {
      const input = form.elements[name];
      const kind = input.dataset.kind;
      if (kind === "boolean") value[name] = input.checked;
      else if (input.value.trim() === "") continue;
      else if (kind === "number") value[name] = Number(input.value);
      else if (kind === "string") value[name] = input.value;
      else value[name] = JSON.parse(input.value);
    }
    return value;
  };
  const send = async (form, status) => {
    outcome.className = "action-outcome";
    outcome.textContent = "answering…";
    let body;
    try {
      body = { status, payload: status === "resolved" ? payload(form) : undefined };
    } catch (error) {
      outcome.classList.add("refused");
      outcome.textContent = "Not JSON: " + error.message;
      return;
    }
    try {
      const answer = await apiPost("/v1/runs/" + enc(run.runId) + "/interrupts/" + enc(interrupt.interruptId) + "/answer", body);
      if (answer.status === 200) {
        outcome.classList.add("applied");
        outcome.textContent = "Answered" + (answer.body.state ? ": the run is now " + answer.body.state.status : "") + ".";
        setTimeout(reload, 800);
        return;
      }
      outcome.classList.add("refused");
      outcome.textContent = answer.status === 409
        ? "Refused (" + answer.body.reason + "): " + answer.body.detail
        : "Not answered (" + answer.status + "): " + (answer.body && answer.body.detail ? answer.body.detail : "");
    } catch (error) {
      outcome.classList.add("refused");
      outcome.textContent = error.message;
    }
  };
  const form = h("form", { class: "interrupt-form", onsubmit: (event) => { event.preventDefault(); send(form, "resolved"); } },
    fields,
    h("div", { class: "actions" },
      h("button", { class: "primary", type: "submit", id: "answer-" + interrupt.interruptId }, "Answer"),
      h("button", { class: "action", type: "button", id: "cancel-" + interrupt.interruptId, onclick: () => send(form, "cancelled") }, "Cancel it"),
      outcome));
  return h("div", { class: "callout waiting interrupt", id: "interrupt-" + interrupt.interruptId },
    h("strong", {}, "Interrupt " + interrupt.interruptId + " (" + interrupt.reason + ")"),
    interrupt.message ? h("div", {}, interrupt.message) : null,
    interrupt.toolCallId ? h("div", { class: "muted" }, "Tool call " + interrupt.toolCallId) : null,
    interrupt.expiresAt ? h("div", { class: "muted" }, "Expires " + when(interrupt.expiresAt)) : null,
    schema ? h("details", {}, h("summary", {}, "Schema of the answer"), h("pre", {}, JSON.stringify(schema, null, 2))) : null,
    mayAnswer ? form : h("p", { class: "muted" }, "This token may not answer."));
}

function compact(details) {
  const text = JSON.stringify(details, (key, value) => (value === null ? undefined : value));
  return text === "{}" ? "" : text;
}

async function roomsView(query) {
  const filters = { kind: query.get("kind") || "", runId: query.get("runId") || "" };
  const params = new URLSearchParams({ limit: PAGE });
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (query.get("cursor")) params.set("cursor", query.get("cursor"));
  const page = await api("/v1/rooms?" + params);
  const rows = page.items.map((room) =>
    h("tr", {},
      h("td", {}, roomLink(room.roomId)),
      h("td", {}, room.kind),
      h("td", {}, room.project),
      h("td", {}, runLink(room.runId)),
      h("td", {}, room.environment.status),
      h("td", {}, room.closed ? "closed" : room.activeTurn ? "turn " + room.activeTurn.turnId : "open"),
      h("td", {}, when(room.updatedAt))),
  );
  show(
    h("h1", {}, "Rooms"),
    table(["room", "kind", "project", "run", "environment", "state", "updated"], rows, "No rooms you may read."),
    pager("#/rooms", filters, query, page.nextCursor),
  );
}

/** A sum's cost as text: each currency's amount, or "—" when no event said one and no price covered it. */
function costText(figures) {
  const costs = figures.costs || [];
  return costs.length ? costs.map((cost) => cost.amount + " " + cost.currency).join(" + ") : "—";
}

/** The usage of a run and every run under it (child runs, theirs ...; at most 200): {runs, usage}. */
async function treeUsage(runId) {
  const runs = [runId];
  for (let next = 0; next < runs.length && runs.length < 200; next++) {
    const children = await api("/v1/runs?limit=200&parentRunId=" + enc(runs[next]));
    for (const child of children.items) if (runs.length < 200) runs.push(child.runId);
  }
  if (runs.length === 1) return { runs: 1, usage: null };
  return { runs: runs.length, usage: await api("/v1/usage?" + runs.map((id) => "runId=" + enc(id)).join("&")) };
}

/** A state's usage totals (by model) as "N in / M out tokens · cost". */
function usageText(totals) {
  if (!totals || !totals.length) return "none recorded";
  const sum = (field) => totals.reduce((all, total) => all + total[field], 0);
  const costs = {};
  for (const total of totals) {
    for (const [currency, amount] of Object.entries(total.cost || {})) costs[currency] = (costs[currency] || 0) + Number(amount);
  }
  const cost = Object.entries(costs).map(([currency, amount]) => amount.toFixed(6).replace(/\.?0+$/, "") + " " + currency).join(" + ");
  return sum("inputTokens") + " in / " + sum("outputTokens") + " out tokens" + (cost ? " · " + cost : "")
    + " (" + totals.map((total) => total.model).join(", ") + ")";
}

/** A bar of {@code pixels}, sized through the CSS object model (the console's CSP allows no inline style). */
function bar(pixels) {
  const element = h("span", { class: "bar" });
  element.style.width = pixels + "px";
  return element;
}

/** #/usage: tokens and cost by project, model, run or day, as a table and a bar chart of the chosen measure. */
async function usageView(query) {
  const groupBy = query.get("groupBy") || "project";
  const params = new URLSearchParams({ groupBy });
  for (const name of ["project", "from", "to"]) if (query.get(name)) params.set(name, query.get(name));
  const usage = await api("/v1/usage?" + params);
  const measure = query.get("measure") === "cost" ? "cost" : "tokens";
  const value = (group) => measure === "cost"
    ? (group.costs || []).reduce((all, cost) => all + Number(cost.amount), 0)
    : group.inputTokens + group.outputTokens;
  const most = Math.max(0, ...usage.groups.map(value));
  const select = (name, options, current) => h("select", { name }, options.map((option) =>
    h("option", option === current ? { value: option, selected: "" } : { value: option }, option)));
  const filters = h("form", { class: "filters", id: "usage-filters" },
    h("label", {}, "Group by", select("groupBy", ["project", "model", "run", "day"], groupBy)),
    h("label", {}, "Chart", select("measure", ["tokens", "cost"], measure)),
    h("label", {}, "Project", h("input", { name: "project", value: query.get("project") || "", placeholder: "project:acme/web" })),
    h("label", {}, "From", h("input", { name: "from", type: "date", value: query.get("from") || "" })),
    h("label", {}, "To", h("input", { name: "to", type: "date", value: query.get("to") || "" })),
    h("button", { class: "primary", type: "submit" }, "Show"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, field] of new FormData(filters)) if (field) next.set(name, field);
    location.hash = "#/usage?" + next;
  });
  const keyCell = (key) => groupBy === "run" ? (key ? runLink(key) : "(outside runs)") : key;
  show(
    h("h1", {}, "Usage"),
    filters,
    h("div", { class: "chart", id: "usage-chart" }, usage.groups.map((group) =>
      h("div", { class: "bar-row", "data-key": group.key },
        h("span", { class: "bar-label" }, group.key || "(outside runs)"),
        bar(most ? Math.max(1, Math.round(300 * value(group) / most)) : 1),
        h("span", { class: "bar-value" }, measure === "cost" ? costText(group) : String(value(group)))))),
    table([groupBy, "events", "input", "output", "cached", "reasoning", "cost"],
      usage.groups.concat([{ ...usage.total, total: true }]).map((group) => h("tr", { "data-usage": group.total ? "(total)" : group.key },
        h("td", {}, group.total ? h("strong", {}, "total") : keyCell(group.key)),
        h("td", {}, String(group.events)),
        h("td", {}, String(group.inputTokens)),
        h("td", {}, String(group.outputTokens)),
        h("td", {}, String(group.cachedInputTokens)),
        h("td", {}, String(group.reasoningTokens)),
        h("td", { class: "cost" }, costText(group)))),
      "No usage recorded."),
    h("p", { class: "muted" }, usage.priceVersion === null
      ? "Costs are what events said; no price table is set (PUT /v1/prices)."
      : "Events that said no cost are priced by price table version " + usage.priceVersion + "."));
}

async function roomView(roomId) {
  const [room, me] = await Promise.all([api("/v1/rooms/" + enc(roomId)), whoami()]);
  const actions = me.mayAppend && !room.closed
    ? h("div", { class: "actions", id: "room-actions" }, actionButton("close-room", "Close room",
      "Close room " + room.roomId + "? Nothing more can be appended to its stream.", "/v1/rooms/" + enc(roomId) + "/events",
      { type: "RoomClosed", reason: "closed by " + me.principal }, () => route()))
    : null;
  const statePanel = h("div", { id: "room-state" });
  const renderState = (state) => {
    statePanel.replaceChildren(facts([
      ["Kind", state.kind + " · " + state.stream],
      ["Project", state.project],
      ["Run", runLink(state.runId)],
      ["Parent room", roomLink(state.parentRoomId)],
      ["Status", state.closed ? "closed" : "open"],
      ["Members", Object.keys(state.members).length
        ? Object.entries(state.members).map(([who, role]) => h("div", {}, h("code", {}, who), " " + role))
        : h("span", { class: "muted" }, "none (operators and admins read every room)")],
      ["Environment", h("span", { id: "environment" }, state.environment.status +
        (state.environment.statusMessage ? " — " + state.environment.statusMessage : "") +
        (state.environment.restartCount ? " · restarts " + state.environment.restartCount : "") +
        (state.environment.lastError ? " · last error: " + state.environment.lastError : ""))],
      ["Active turn", h("span", { id: "active-turn" }, state.activeTurn ? state.activeTurn.turnId + " since " + when(state.activeTurn.startedAt) : "none")],
      ["Usage", h("span", { id: "room-usage" }, usageText(state.usage))],
      ["Events", String(state.version)],
    ]));
  };
  renderState(room);
  const streamState = h("div", { class: "stream-state", id: "stream-state" }, "connecting…");
  const stream = h("div", { id: "stream" });
  show(h("h1", {}, "Room ", h("span", { class: "mono" }, room.roomId)), actions, statePanel, h("h2", {}, "Live stream"), streamState, stream);

  const transcript = new Transcript(stream);
  let refresh = null;
  const refreshState = () => {
    clearTimeout(refresh);
    refresh = setTimeout(() => api("/v1/rooms/" + enc(roomId)).then(renderState).catch(() => {}), 300);
  };
  stopStream = follow(roomId, (name, data) => {
    transcript.add(name, data);
    if (["TurnStarted", "TurnEnded", "StatusChanged", "ErrorRaised", "MemberGranted", "MemberRevoked", "RoomClosed"].includes(name)) {
      refreshState();
    }
  }, (state) => {
    streamState.textContent = state;
    streamState.dataset.state = state.split(" ")[0];
  });
}

/** Renders a room's events as they arrive: turns grouped, blocks as growing text, logs and errors apart. */
class Transcript {
  constructor(container) {
    this.container = container;
    this.turns = new Map();
    this.blocks = new Map();
  }

  add(name, event) {
    const payload = event.payload || {};
    switch (name) {
      case "TurnStarted": {
        const turn = h("div", { class: "turn", "data-turn": payload.turnId },
          h("div", { class: "turn-header" }, "turn " + payload.turnId + (payload.participant ? " · " + payload.participant : "") + " · " + when(event.occurredAt)));
        this.turns.set(payload.turnId, turn);
        this.append(turn);
        break;
      }
      case "TurnEnded": {
        const turn = this.turns.get(payload.turnId);
        if (turn) {
          turn.append(h("div", { class: "turn-header" }, "turn ended" + (payload.reason ? ": " + payload.reason : "")));
          turn.dataset.ended = "true";
        }
        break;
      }
      case "BlockStarted": {
        const block = h("div", { class: "block open", "data-block": payload.blockId, "data-kind": payload.kind });
        this.blocks.set(payload.blockId, block);
        const turn = this.turns.get(payload.turnId);
        if (turn) turn.append(block);
        else this.append(block);
        break;
      }
      case "TextDelta": {
        const block = this.blocks.get(payload.blockId);
        if (block) block.append(payload.text);
        break;
      }
      case "BlockCompleted": {
        const block = this.blocks.get(payload.blockId);
        if (block) block.classList.remove("open");
        break;
      }
      case "LogEmitted":
        this.append(h("div", { class: "log " + payload.level }, "[" + payload.level + "] " + payload.message));
        break;
      case "ErrorRaised":
        this.append(h("div", { class: "error-event" }, "error " + payload.code + ": " + payload.message));
        break;
      case "StatusChanged":
        this.append(h("div", { class: "status-event" }, "environment " + payload.status + (payload.message ? " — " + payload.message : "")));
        break;
      default:
        this.append(h("div", { class: "log muted" }, name + " by " + event.actor));
    }
    this.container.scrollTop = this.container.scrollHeight;
  }

  append(element) {
    const open = [...this.turns.values()].at(-1);
    const inTurn = open && !open.dataset.ended && element.classList && !element.classList.contains("turn");
    (inTurn ? open : this.container).append(element);
  }
}

/**
 * Follows a room's stream from its start, and after a dropped connection from the last event received
 * (Last-Event-ID), until it ends for good (deleted, revoked) or the view changes. Returns a stop function.
 */
function follow(roomId, onEvent, onState) {
  const controller = new AbortController();
  let lastId = null;
  (async () => {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      let ended = null;
      try {
        const headers = { Authorization: "Bearer " + token(), Accept: "text/event-stream" };
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const url = "/v1/rooms/" + enc(roomId) + "/stream" + (lastId === null ? "?from=start" : "");
        const response = await fetch(url, { headers, signal: controller.signal });
        if ([401, 403, 404].includes(response.status)) {
          onState("ended: " + response.status);
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        onState(attempt === 0 ? "live" : "live (resumed after cursor " + lastId + ")");
        ended = await readEvents(response.body, (id, name, data) => {
          if (id !== null) lastId = id;
          if (name === "end") return data.reason;
          onEvent(name, data);
          return null;
        });
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      if (ended === "deleted" || ended === "revoked") {
        onState("ended: " + ended);
        return;
      }
      onState("reconnecting…");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return () => controller.abort();
}

/** Parses text/event-stream; calls onEvent(id, name, data) per event until it returns an end reason. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let id = null;
  let name = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      let line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length) {
          const reason = onEvent(id, name, JSON.parse(data.join("\n")));
          if (reason) {
            reader.cancel();
            return reason;
          }
        }
        name = "message";
        data = [];
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const content = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = content;
        else if (field === "event") name = content;
        else if (field === "data") data.push(content);
      }
    }
  }
}

async function artifactsView(query) {
  const by = query.get("by") || "parent";
  const value = query.get("value") || "";
  const params = new URLSearchParams({ limit: PAGE });
  if (value) params.set(by, value);
  if (query.get("cursor")) params.set("cursor", query.get("cursor"));
  const page = await api("/v1/artifacts?" + params);
  const form = h("form", { class: "filters", id: "artifact-filters", onsubmit: (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      const chosen = form.elements.value.value.trim();
      if (chosen) {
        next.set("by", form.elements.by.value);
        next.set("value", chosen);
      }
      location.hash = "#/artifacts" + (next.toString() ? "?" + next : "");
    } },
    h("label", {}, "By", h("select", { name: "by" },
      [["parent", "project (or any parent)"], ["runId", "run"], ["roomId", "room"]].map(([key, text]) =>
        h("option", { value: key, selected: key === by }, text)))),
    h("label", {}, "Id", h("input", { name: "value", value, placeholder: "project:acme/web" })),
    h("button", { class: "primary", type: "submit" }, "Filter"),
  );
  show(h("h1", {}, "Artifacts"), form, artifactTable(page.items),
    pager("#/artifacts", value ? { by, value } : {}, query, page.nextCursor));
}

function artifactTable(items) {
  return table(["artifact", "kind", "name", "parent", "size", "updated"], items.map((artifact) =>
    h("tr", {},
      h("td", {}, artifactLink(artifact.artifactId)),
      h("td", {}, artifact.kind),
      h("td", {}, artifact.name),
      h("td", {}, artifact.parentId),
      h("td", {}, artifact.size === null ? "—" : artifact.size + " B"),
      h("td", {}, when(artifact.updatedAt)))), "No artifacts.");
}

async function artifactView(artifactId) {
  const artifact = await api("/v1/artifacts/" + enc(artifactId));
  const download = h("button", { class: "primary", type: "button", id: "download", onclick: async () => {
    const response = await fetch("/v1/artifacts/" + enc(artifactId) + "/content", { headers: { Authorization: "Bearer " + token() } });
    if (!response.ok) {
      download.replaceWith(h("p", { class: "error" }, "No stored content (" + response.status + ")."));
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const anchor = h("a", { href: url, download: artifact.name });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  } }, "Download");
  const provenance = artifact.provenance || {};
  show(
    h("h1", {}, "Artifact ", h("span", { class: "mono" }, artifact.artifactId)),
    facts([
      ["Name", artifact.name],
      ["Kind", artifact.kind],
      ["Parent", artifact.parentId],
      ["Locator", artifact.locator || "—"],
      ["Digest", artifact.digest ? h("code", {}, artifact.digest) : "—"],
      ["Size", artifact.size === null ? "—" : artifact.size + " bytes"],
      ["Media type", artifact.mediaType || "—"],
      ["Labels", labels(artifact.labels)],
      ["Created", when(artifact.createdAt)],
      ["Updated", when(artifact.updatedAt)],
    ]),
    h("h2", {}, "Provenance"),
    facts([
      ["Run", runLink(provenance.runId)],
      ["Room", roomLink(provenance.roomId)],
      ["Resource", provenance.resource || "—"],
    ]),
    h("h2", {}, "Content"),
    artifact.locator && artifact.locator.startsWith("blob:") ? download : h("p", { class: "muted" },
      artifact.locator ? "Held elsewhere: " + artifact.locator : "No content stored."),
    h("h2", {}, "Revisions"),
    table(["version", "at", "locator", "digest", "note"], artifact.revisions.map((revision) =>
      h("tr", {}, h("td", {}, String(revision.version)), h("td", {}, when(revision.at)), h("td", {}, revision.locator || "—"),
        h("td", {}, revision.digest ? h("code", {}, revision.digest) : "—"), h("td", {}, revision.note || ""))), "None."),
  );
}

// ---- routing -------------------------------------------------------------------------------------------

async function route() {
  // A sign-in link may arrive as a new page or, from a console page already open, as a fragment change.
  takeTokenFromAddress();
  if (stopStream) {
    stopStream();
    stopStream = null;
  }
  const signOut = document.getElementById("sign-out");
  if (!token()) {
    signOut.hidden = true;
    tokenView();
    return;
  }
  signOut.hidden = false;
  const [path, search] = (location.hash.slice(1) || "/runs").split("?");
  const query = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const anchor of document.querySelectorAll("[data-nav]")) {
    anchor.classList.toggle("active", anchor.dataset.nav === parts[0]);
  }
  try {
    if (parts[0] === "runs" && parts[1]) await runView(parts[1]);
    else if (parts[0] === "rooms" && parts[1]) await roomView(parts[1]);
    else if (parts[0] === "rooms") await roomsView(query);
    else if (parts[0] === "artifacts" && parts[1]) await artifactView(parts[1]);
    else if (parts[0] === "artifacts") await artifactsView(query);
    else if (parts[0] === "usage") await usageView(query);
    else await runsView(query);
  } catch (error) {
    if (error instanceof Unauthenticated) {
      localStorage.removeItem(TOKEN_KEY);
      tokenView("That token is not valid here.");
    } else {
      show(h("p", { class: "error", id: "error" }, error.message));
    }
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  route();
});
window.addEventListener("hashchange", route);
route();
