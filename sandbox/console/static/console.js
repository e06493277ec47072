// The Slack console page: long-polls the workspace, renders the open channel or the app's
// Home, and sends what the person does (as the user picked in "Acting as") to the console
// API, which signs it like Slack.
import { renderBlocks, renderMessage } from "./blocks.js";
import { node } from "./elements.js";
import { Modal, confirmDialog } from "./modal.js";
import { Sidebar } from "./sidebar.js";

const $ = (id) => document.getElementById(id);
const base = document.body.dataset.base;
const app = document.body.dataset.app;
const picker = $("user");
const statusLine = $("status");
const connection = $("connection");
const memory = new Map(); // choices not applied yet, open multi-selects
let directory = { users: {}, channels: {} };
let revision = -1;
let poller = null;
let shown = { messages: null, direct: null, home: null };

function say(text, kind = "info") {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

function refresh() {
  revision = -1;
  poller?.abort();
}

async function post(path, payload) {
  let response;
  try {
    response = await fetch(`${base}/api/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: picker.value, ...payload }),
    });
  } catch (error) {
    say(`The console did not answer: ${error.message}`, "error");
    return null;
  }
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    answer = {};
  }
  refresh();
  if (answer.error) {
    say(answer.error, "error");
  } else if (!response.ok) {
    const detail = answer.text ? `: ${answer.text}` : "";
    say(`The bot answered HTTP ${response.status}${detail}`, "error");
  } else {
    say("");
  }
  return { ok: response.ok && !answer.error, answer };
}

// An external select's options, as the app answers Slack's options request: nothing changes
// in the workspace, so the page neither refreshes nor clears the status line for it.
async function suggest(target, element, blockId, value) {
  try {
    const response = await fetch(`${base}/api/suggest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        user: picker.value,
        ...target,
        block_id: blockId,
        action_id: element.action_id,
        value,
      }),
    });
    const answer = await response.json();
    return { ok: response.ok && !answer.error, answer };
  } catch (error) {
    return { ok: false, answer: { error: `The console did not answer: ${error.message}` } };
  }
}

const act = {
  click: (target, element, extra) =>
    post("click", { ...target, action_id: element.action_id, ...extra }),
  select: (target, element, values, extra = {}) =>
    post("select", { ...target, action_id: element.action_id, values, ...extra }),
  suggest,
  submit: (viewId, values) => post("submit", { view_id: viewId, values }),
  close: (viewId) => post("close", { view_id: viewId }),
};
const modal = new Modal(act);
const sidebar = new Sidebar(() => {
  shown = { ...shown, messages: null, home: null };
  say("");
  refresh();
  if (sidebar.home) openHome();
});

// As Slack does each time someone opens the Home tab: the app hears of it and publishes.
async function openHome() {
  say("Opening the Home tab…");
  await post("home", {});
}

function context() {
  const ctx = { ...directory, act, memory };
  ctx.confirm = (confirm) => confirmDialog(confirm, ctx);
  return ctx;
}

function nearBottom() {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
}

function renderList(list, items, key, ctx) {
  const fingerprint = JSON.stringify([items, directory]);
  if (fingerprint === shown[key]) return false;
  shown[key] = fingerprint;
  list.replaceChildren(...items.map((message) => renderMessage(message, ctx)));
  return true;
}

// The Home the bot published (its buttons act on the Home view), or a line saying there is
// none. Only the open view is in the page, so a channel's text is never found twice.
function renderHome(home, ctx) {
  const fingerprint = JSON.stringify([home, directory]);
  if (fingerprint === shown.home) return;
  shown.home = fingerprint;
  const target = { view_id: home?.view_id };
  const blocks = home ? [renderBlocks(home.blocks, { ...ctx, target, state: home.state })] : [];
  $("home-view").replaceChildren(...blocks);
  $("home-empty").hidden = Boolean(home);
}

function renderChannel(state, ctx) {
  const follow = shown.messages === null || nearBottom();
  const changed = renderList($("messages"), state.messages, "messages", ctx);
  renderList($("direct-messages"), state.direct, "direct", ctx);
  $("empty").hidden = state.messages.length > 0;
  $("direct").hidden = state.direct.length === 0;
  if (changed && follow) window.scrollTo(0, document.documentElement.scrollHeight);
}

function render(state) {
  directory = { users: state.users, channels: state.channels };
  sidebar.show(state.sidebar);
  const home = sidebar.home;
  $("channel-title").textContent = home ? `${app} · Home` : `#${state.channel.name}`;
  for (const id of ["messages", "composer"]) $(id).hidden = home;
  $("home").hidden = !home;
  const ctx = context();
  if (home) {
    renderList($("messages"), [], "messages", ctx);
    renderList($("direct-messages"), [], "direct", ctx);
    $("empty").hidden = $("direct").hidden = true;
    renderHome(state.home, ctx);
  } else {
    $("home-view").replaceChildren();
    shown.home = null;
    renderChannel(state, ctx);
  }
  modal.show(state.modal, ctx);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll() {
  for (;;) {
    poller = new AbortController();
    const user = picker.value;
    const channel = sidebar.channel;
    const query = new URLSearchParams({ user, channel, since: String(revision) });
    try {
      const response = await fetch(`${base}/api/state?${query}`, {
        signal: poller.signal,
        cache: "no-store",
      });
      const state = await response.json();
      if (!response.ok) throw new Error(state.error ?? `HTTP ${response.status}`);
      if (user !== picker.value || channel !== sidebar.channel) continue;
      revision = state.revision;
      render(state);
      connection.textContent = "Live";
      connection.dataset.kind = "ok";
    } catch (error) {
      if (error.name === "AbortError") continue;
      connection.textContent = `Reconnecting… (${error.message})`;
      connection.dataset.kind = "error";
      await sleep(1500);
    }
  }
}

picker.addEventListener("change", () => {
  const url = new URL(window.location.href);
  url.searchParams.set("user", picker.value);
  window.history.replaceState(null, "", url);
  memory.clear();
  sidebar.forget();
  shown = { messages: null, direct: null, home: null };
  say("");
  refresh();
  if (sidebar.home) openHome();
});

// "Run jobs now" (when the console was given the app's jobs): each job's line as it ends;
// what the jobs posted shows as the channel refreshes after.
$("run-jobs")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const lines = $("job-lines");
  button.disabled = true;
  lines.replaceChildren(node("li", "", "Running the jobs…"));
  try {
    const result = await post("jobs", {});
    const done = result?.ok ? result.answer.lines : ["The jobs did not run: see below."];
    lines.replaceChildren(...done.map((line) => node("li", "", line)));
  } finally {
    button.disabled = false;
  }
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = $("message");
  const typed = box.value.trim();
  if (!typed) return;
  const send = event.target.querySelector("button[type=submit]");
  send.disabled = true;
  say(`Sending ${typed}…`);
  try {
    const result = await post("command", { text: typed, channel: sidebar.channel });
    if (result?.ok) {
      box.value = "";
      say(`You ran ${typed.startsWith("/") ? typed : `/xero ${typed}`}`);
    }
  } finally {
    send.disabled = false;
    box.focus();
  }
});

poll();
if (sidebar.home) openHome();
