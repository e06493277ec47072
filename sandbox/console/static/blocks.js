// Block Kit layout blocks, and whole messages (with threads and ephemeral marks).
import { interactive, multiSelect, node, staticSelect, textInput, uid } from "./elements.js";
import { mrkdwn, plain, textObject } from "./mrkdwn.js";
import { datePicker, externalSelect, radioButtons } from "./pickers.js";

const EXTERNAL = ["external_select", "multi_external_select"];

// An element outside an input block: the pickers here, the rest in elements.js.
function control(element, ctx, bid) {
  const label = plain(element.placeholder) || "Choose…";
  const opts = { bid, label, dispatch: true };
  if (EXTERNAL.includes(element.type)) return externalSelect(element, ctx, opts);
  if (element.type === "radio_buttons") return radioButtons(element, ctx, opts);
  if (element.type === "datepicker") return datePicker(element, ctx, opts);
  return interactive(element, ctx, bid);
}

function section(block, ctx) {
  const shown = node("div", "block section");
  const body = node("div", "section-body");
  if (block.text) body.append(textObject(block.text, ctx, "div"));
  if (block.fields?.length) {
    const fields = node("div", "fields");
    for (const field of block.fields) fields.append(textObject(field, ctx, "div"));
    body.append(fields);
  }
  shown.append(body);
  if (block.accessory) {
    const accessory = node("div", "accessory");
    accessory.append(control(block.accessory, ctx, block.block_id));
    shown.append(accessory);
  }
  return shown;
}

function context(block, ctx) {
  const shown = node("div", "block context");
  for (const element of block.elements ?? []) {
    if (element.type === "image") {
      shown.append(node("span", "image-alt", `[image: ${element.alt_text ?? ""}]`));
    } else {
      shown.append(textObject(element, ctx));
    }
  }
  return shown;
}

function actions(block, ctx) {
  const shown = node("div", "block actions");
  for (const element of block.elements ?? []) {
    shown.append(control(element, ctx, block.block_id));
  }
  return shown;
}

function input(block, ctx) {
  const shown = node("div", "block input-block");
  const element = block.element ?? {};
  const bid = block.block_id;
  const id = uid("input");
  const name = plain(block.label);
  const grouped = ["multi_static_select", "radio_buttons"].includes(element.type);
  const label = node(grouped ? "p" : "label", "input-label", name);
  if (label.tagName === "LABEL") label.htmlFor = id;
  if (block.optional) label.append(node("span", "muted", " (optional)"));
  const opts = { bid, id, label: name, dispatch: Boolean(block.dispatch_action) };
  const optional = Boolean(block.optional);
  let control;
  if (element.type === "plain_text_input") control = textInput(element, ctx, opts);
  else if (element.type === "static_select") control = staticSelect(element, ctx, { ...opts, optional });
  else if (element.type === "multi_static_select") control = multiSelect(element, ctx, opts);
  else if (EXTERNAL.includes(element.type)) control = externalSelect(element, ctx, opts);
  else if (element.type === "radio_buttons") control = radioButtons(element, ctx, opts);
  else if (element.type === "datepicker") control = datePicker(element, ctx, opts);
  else control = node("p", "unsupported", `[${element.type} is not supported here]`);
  // Errors and hints describe what takes the focus: the search box of an external select.
  const focus = control.matches("fieldset, input, select, textarea, details")
    ? control
    : (control.querySelector("input, select, textarea") ?? control);
  const described = [];
  const error = ctx.errors?.[bid];
  let errorNode = null;
  if (error) {
    errorNode = node("p", "field-error", error);
    errorNode.id = uid("error");
    described.push(errorNode.id);
    focus.setAttribute("aria-invalid", "true");
  }
  let hint = null;
  if (block.hint) {
    hint = node("p", "hint", plain(block.hint));
    hint.id = uid("hint");
    described.push(hint.id);
  }
  const already = focus.getAttribute("aria-describedby");
  if (already) described.push(already);
  if (described.length) focus.setAttribute("aria-describedby", described.join(" "));
  shown.append(label, control);
  if (errorNode) shown.append(errorNode);
  if (hint) shown.append(hint);
  return shown;
}

function block(shown, ctx) {
  switch (shown.type) {
    case "header":
      return node("h3", "block header", plain(shown.text));
    case "section":
      return section(shown, ctx);
    case "context":
      return context(shown, ctx);
    case "divider":
      return node("hr", "block divider");
    case "actions":
      return actions(shown, ctx);
    case "input":
      return input(shown, ctx);
    case "image":
      return node("p", "block image-alt", `[image: ${shown.alt_text ?? ""}]`);
    default:
      return node("p", "block unsupported", `[${shown.type} block is not supported here]`);
  }
}

export function renderBlocks(blocks, ctx) {
  const shown = node("div", "blocks");
  for (const each of blocks) shown.append(block(each, ctx));
  return shown;
}

function when(ts) {
  const moment = new Date(Number(ts.split(".")[0]) * 1000);
  const clock = { hour: "2-digit", minute: "2-digit" };
  const time = node("time", "when", moment.toLocaleTimeString([], clock));
  time.dateTime = moment.toISOString();
  time.title = moment.toLocaleString();
  return time;
}

// One message (`base` has users, channels, act, confirm, memory); replies nest under it.
export function renderMessage(message, base) {
  const target = { channel: message.channel, ts: message.ts };
  const ctx = { ...base, target, state: message.state };
  const item = node("li", "message");
  item.dataset.ts = message.ts;
  if (message.ephemeral) item.classList.add("ephemeral");
  const meta = node("div", "meta");
  meta.append(node("strong", "author", message.author));
  if (message.bot) meta.append(node("span", "badge", "APP"));
  meta.append(when(message.ts));
  if (message.edited) meta.append(node("span", "edited", "(edited)"));
  item.append(meta);
  if (message.ephemeral) item.append(node("p", "only-you", "Only visible to you"));
  const blocks = message.blocks.length;
  item.append(blocks ? renderBlocks(message.blocks, ctx) : mrkdwn(message.text, ctx));
  if (message.replies?.length) {
    const thread = node("div", "thread");
    const count = message.replies.length;
    thread.append(node("p", "reply-count", `${count} ${count === 1 ? "reply" : "replies"}`));
    const replies = node("ol", "replies");
    for (const reply of message.replies) replies.append(renderMessage(reply, base));
    thread.append(replies);
    item.append(thread);
  }
  return item;
}
