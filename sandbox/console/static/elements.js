// Block Kit's interactive elements: buttons, selects, multi-selects, overflow menus, inputs.
// `ctx` carries the target (message or modal), the choices kept so far (`state`), the
// modal's drafts and input readers, and the `act` callbacks that talk to the console API.
import { plain } from "./mrkdwn.js";

let serial = 0;
export function uid(prefix = "el") {
  serial += 1;
  return `${prefix}-${serial}`;
}

export function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function options(element) {
  const found = [...(element.options ?? [])];
  for (const group of element.option_groups ?? []) found.push(...(group.options ?? []));
  return found;
}

function memoryKey(ctx, bid, aid) {
  const where = ctx.target.view_id ?? `${ctx.target.channel}/${ctx.target.ts}`;
  return `${where}|${bid}|${aid}`;
}

function kept(ctx, bid, aid) {
  return ctx.state?.[bid]?.[aid];
}

export function button(element, ctx, bid) {
  const style = ["primary", "danger"].includes(element.style) ? ` ${element.style}` : "";
  const shown = node("button", `btn${style}`, plain(element.text));
  shown.type = "button";
  shown.addEventListener("click", async () => {
    if (element.confirm && !(await ctx.confirm(element.confirm))) return;
    if (/^https?:/i.test(element.url ?? "")) {
      window.open(element.url, "_blank", "noopener,noreferrer");
    }
    const extra = element.value === undefined ? {} : { value: element.value };
    await ctx.act.click(ctx.target, element, { ...extra, block_id: bid });
  });
  return shown;
}

function addOptions(select, element) {
  const add = (parent, option) => {
    const choice = node("option", "", plain(option.text));
    choice.value = option.value;
    parent.append(choice);
  };
  for (const option of element.options ?? []) add(select, option);
  for (const group of element.option_groups ?? []) {
    const optgroup = node("optgroup");
    optgroup.label = plain(group.label);
    for (const option of group.options ?? []) add(optgroup, option);
    select.append(optgroup);
  }
}

// One choice. `label` names it (its placeholder, or the input block's label via `id`); an
// optional input's select can be set back to its placeholder, which reads as no choice.
export function staticSelect(element, ctx, { bid, label, id, dispatch, optional = false }) {
  const aid = element.action_id;
  const select = node("select", "select");
  if (id) select.id = id;
  else select.setAttribute("aria-label", label);
  const draft = ctx.drafts?.get(`${bid}/${aid}`);
  const current =
    draft ?? kept(ctx, bid, aid)?.selected_option?.value ?? element.initial_option?.value;
  const placeholder = node("option", "", plain(element.placeholder) || "Choose…");
  placeholder.value = "";
  placeholder.disabled = !optional;
  select.append(placeholder);
  addOptions(select, element);
  select.value = current ?? "";
  if (select.value === "") placeholder.selected = true;
  select.addEventListener("change", async () => {
    ctx.drafts?.set(`${bid}/${aid}`, select.value);
    if (dispatch) await ctx.act.select(ctx.target, element, [select.value], { block_id: bid });
  });
  ctx.inputs?.push({ bid, aid, read: () => select.value || null });
  return select;
}

// Several choices: checkboxes in a group named `label`, sent with "Apply" when dispatching.
export function multiSelect(element, ctx, { bid, label, dispatch }) {
  const aid = element.action_id;
  const key = memoryKey(ctx, bid, aid);
  const memory = ctx.memory;
  const saved = kept(ctx, bid, aid)?.selected_options ?? element.initial_options ?? [];
  const chosen = new Set(
    ctx.drafts?.get(`${bid}/${aid}`) ?? memory.get(key) ?? saved.map((o) => o.value),
  );
  const details = node("details", "multi");
  details.open = memory.get(`${key}#open`) ?? false;
  details.addEventListener("toggle", () => memory.set(`${key}#open`, details.open));
  const summary = node("summary", "", label);
  const picked = options(element).filter((o) => chosen.has(o.value));
  if (picked.length) summary.append(node("span", "picked", `: ${picked.map((o) => plain(o.text)).join(", ")}`));
  const group = node("fieldset", "multi-options");
  group.setAttribute("aria-label", label);
  for (const option of options(element)) {
    const row = node("label", "check");
    const box = node("input");
    box.type = "checkbox";
    box.value = option.value;
    box.checked = chosen.has(option.value);
    box.addEventListener("change", () => {
      if (box.checked) chosen.add(option.value);
      else chosen.delete(option.value);
      memory.set(key, [...chosen]);
      ctx.drafts?.set(`${bid}/${aid}`, [...chosen]);
    });
    row.append(box, node("span", "", plain(option.text)));
    group.append(row);
  }
  const ordered = () => options(element).map((o) => o.value).filter((v) => chosen.has(v));
  if (dispatch) {
    const apply = node("button", "btn small", "Apply");
    apply.type = "button";
    apply.addEventListener("click", async () => {
      memory.delete(key);
      memory.set(`${key}#open`, false);
      await ctx.act.select(ctx.target, element, ordered(), { block_id: bid });
    });
    group.append(apply);
  }
  ctx.inputs?.push({ bid, aid, read: ordered });
  details.append(summary, group);
  return details;
}

export function overflow(element, ctx, bid) {
  const select = node("select", "select overflow");
  select.setAttribute("aria-label", "More actions");
  const first = node("option", "", "⋯");
  first.value = "";
  select.append(first);
  addOptions(select, element);
  select.addEventListener("change", async () => {
    const value = select.value;
    select.value = "";
    if (value) await ctx.act.click(ctx.target, element, { selected: value, block_id: bid });
  });
  return select;
}

export function textInput(element, ctx, { bid, id }) {
  const aid = element.action_id;
  const input = node(element.multiline ? "textarea" : "input", "text-input");
  if (!element.multiline) input.type = "text";
  input.id = id;
  input.name = `${bid}/${aid}`;
  if (element.placeholder) input.placeholder = plain(element.placeholder);
  if (element.max_length) input.maxLength = element.max_length;
  input.value = ctx.drafts?.get(`${bid}/${aid}`) ?? element.initial_value ?? "";
  input.addEventListener("input", () => ctx.drafts?.set(`${bid}/${aid}`, input.value));
  ctx.inputs?.push({ bid, aid, read: () => input.value });
  return input;
}

// Any element outside an input block (a section's accessory or in an actions block).
export function interactive(element, ctx, bid) {
  const label = plain(element.placeholder) || "Choose…";
  switch (element.type) {
    case "button":
      return button(element, ctx, bid);
    case "static_select":
      return staticSelect(element, ctx, { bid, label, dispatch: true });
    case "multi_static_select":
      return multiSelect(element, ctx, { bid, label, dispatch: true });
    case "overflow":
      return overflow(element, ctx, bid);
    case "image":
      return node("span", "image-alt", `[image: ${element.alt_text ?? ""}]`);
    default:
      return node("span", "unsupported", `[${element.type} is not supported here]`);
  }
}
