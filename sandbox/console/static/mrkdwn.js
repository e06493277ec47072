// Slack's mrkdwn and plain_text as DOM nodes. Message text only ever goes into
// textContent / text nodes / vetted href attributes, never into innerHTML.

const EMOJI = {
  black_circle: "⚫", boom: "💥", envelope: "✉️", hourglass_flowing_sand: "⏳",
  inbox_tray: "📥", large_green_circle: "🟢", link: "🔗", no_entry_sign: "🚫",
  red_circle: "🔴", warning: "⚠️", white_check_mark: "✅", white_circle: "⚪", white_large_square: "⬜", x: "❌",
  heavy_check_mark: "✔️", information_source: "ℹ️", bulb: "💡", lock: "🔒", key: "🔑",
  tada: "🎉", wave: "👋", eyes: "👀", hourglass: "⌛", rotating_light: "🚨",
  bar_chart: "📊", gear: "⚙️", alarm_clock: "⏰", ok_hand: "👌", no_entry: "⛔",
};
const ENTITIES = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };
const SAFE_URL = /^(https?:|mailto:)/i;
// ```pre```, `code`, <special|label>, *bold*, _italic_, ~strike~ (Slack's word rules), and
// bare web addresses, which Slack links too.
const INLINE = new RegExp(
  [
    "```([\\s\\S]*?)```",
    "`([^`\\n]+)`",
    "<([^<>\\n]+)>",
    "(?<![\\p{L}\\p{N}*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![\\p{L}\\p{N}*])",
    "(?<![\\p{L}\\p{N}_])_(?=\\S)([^_\\n]*?\\S)_(?![\\p{L}\\p{N}_])",
    "(?<![\\p{L}\\p{N}~])~(?=\\S)([^~\\n]*?\\S)~(?![\\p{L}\\p{N}~])",
    "(?<![\\w/])(https?://[^\\s<>]*[^\\s<>.,;:!?)'\"*_~])",
  ].join("|"),
  "gu",
);

export function decode(text) {
  return text.replace(/&(?:lt|gt|amp);/g, (entity) => ENTITIES[entity]);
}

export function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function link(url, label) {
  const shown = node("a", "", label);
  shown.href = url;
  shown.target = "_blank";
  shown.rel = "noopener noreferrer";
  return shown;
}

function special(inner, context) {
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? "" : decode(inner.slice(bar + 1));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return node("span", "mention", `@${label || context.users?.[id] || id}`);
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return node("span", "mention", `#${label || context.channels?.[id] || id}`);
  }
  if (target.startsWith("!date^")) {
    const shown = node("time", "date", label || target);
    const seconds = Number(target.split("^")[1]);
    if (Number.isFinite(seconds)) {
      shown.dateTime = new Date(seconds * 1000).toISOString();
      shown.title = new Date(seconds * 1000).toLocaleString();
    }
    return shown;
  }
  if (target.startsWith("!")) {
    const name = target.slice(1).split("^")[0];
    return node("span", "mention", label || `@${name}`);
  }
  const url = decode(target);
  if (!SAFE_URL.test(url)) return document.createTextNode(label || url);
  return link(url, label ? emojify(label) : url);
}

function appendText(parent, text) {
  if (text) parent.append(document.createTextNode(emojify(decode(text))));
}

function appendInline(parent, text, context) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    appendText(parent, text.slice(last, match.index));
    const [, pre, code, angle, bold, italic, strike, bare] = match;
    if (pre !== undefined) {
      parent.append(node("pre", "", decode(pre.replace(/^\n/, ""))));
    } else if (code !== undefined) {
      parent.append(node("code", "", decode(code)));
    } else if (angle !== undefined) {
      parent.append(special(angle, context));
    } else if (bare !== undefined) {
      parent.append(link(decode(bare), decode(bare)));
    } else {
      const tag = bold !== undefined ? "strong" : italic !== undefined ? "em" : "s";
      const styled = node(tag);
      appendInline(styled, bold ?? italic ?? strike, context);
      parent.append(styled);
    }
    last = match.index + match[0].length;
  }
  appendText(parent, text.slice(last));
}

// A text object ({type: "mrkdwn" | "plain_text", text}) as an element of `tag`.
export function textObject(object, context, tag = "span") {
  const element = node(tag, object?.type === "mrkdwn" ? "mrkdwn" : "plain");
  const text = String(object?.text ?? "");
  if (object?.type === "mrkdwn") appendInline(element, text, context);
  else element.textContent = object?.emoji === false ? text : emojify(text);
  return element;
}

export function mrkdwn(text, context, tag = "div") {
  return textObject({ type: "mrkdwn", text }, context, tag);
}

export function plain(object) {
  return String(object?.text ?? "");
}
