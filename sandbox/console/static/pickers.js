// Block Kit's pickers beyond plain selects: radio buttons, date pickers, and external selects,
// whose options the app gives as the person types (Slack's options request, asked through
// the console's /api/suggest). All text goes in as textContent: the app's text is untrusted.
import { node, uid } from "./elements.js";
import { plain } from "./mrkdwn.js";

const MIN_QUERY_LENGTH = 3; // Slack's default; it sends nothing for shorter text
const DEBOUNCE_MS = 250;

function kept(ctx, bid, aid) {
  return ctx.state?.[bid]?.[aid];
}

// One choice among a few, as a group of radios named `label`.
export function radioButtons(element, ctx, { bid, label, dispatch }) {
  const aid = element.action_id;
  const group = node("fieldset", "radios");
  group.setAttribute("aria-label", label);
  const current =
    ctx.drafts?.get(`${bid}/${aid}`) ??
    kept(ctx, bid, aid)?.selected_option?.value ??
    element.initial_option?.value;
  const name = uid("radio");
  const boxes = [];
  for (const option of element.options ?? []) {
    const row = node("label", "check");
    const box = node("input");
    box.type = "radio";
    box.name = name;
    box.value = option.value;
    box.checked = option.value === current;
    box.addEventListener("change", async () => {
      ctx.drafts?.set(`${bid}/${aid}`, box.value);
      if (dispatch) await ctx.act.select(ctx.target, element, [box.value], { block_id: bid });
    });
    boxes.push(box);
    row.append(box, node("span", "", plain(option.text)));
    group.append(row);
  }
  ctx.inputs?.push({ bid, aid, read: () => boxes.find((box) => box.checked)?.value ?? null });
  return group;
}

// A date (YYYY-MM-DD, as Slack reports it); empty reads as null.
export function datePicker(element, ctx, { bid, id, label, dispatch }) {
  const aid = element.action_id;
  const input = node("input", "text-input date-input");
  input.type = "date";
  if (id) input.id = id;
  else input.setAttribute("aria-label", label);
  input.value =
    ctx.drafts?.get(`${bid}/${aid}`) ??
    kept(ctx, bid, aid)?.selected_date ??
    element.initial_date ??
    "";
  input.addEventListener("change", async () => {
    ctx.drafts?.set(`${bid}/${aid}`, input.value);
    if (dispatch && input.value) {
      await ctx.act.select(ctx.target, element, [input.value], { block_id: bid });
    }
  });
  ctx.inputs?.push({ bid, aid, read: () => input.value || null });
  return input;
}

// A search box (role combobox, named by the input's label or the placeholder) over a list of
// the options the app answered (role listbox). Past `min_query_length` characters, typing
// asks the app. One choice shows in the box, and an emptied box clears it; a multi-select's
// choices are listed under the box, each with a button to remove it.
export function externalSelect(element, ctx, { bid, id, label, dispatch }) {
  const aid = element.action_id;
  const multi = element.type === "multi_external_select";
  const least = element.min_query_length ?? MIN_QUERY_LENGTH;
  const wrap = node("div", "external");
  const box = node("input", "text-input external-search");
  box.type = "search";
  box.autocomplete = "off";
  box.spellcheck = false;
  if (id) box.id = id;
  else box.setAttribute("aria-label", label);
  box.placeholder = plain(element.placeholder) || "Type to search…";
  const list = node("ul", "suggestions");
  list.id = uid("listbox");
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", `Options for ${label}`);
  list.hidden = true;
  const status = node("p", "hint external-status");
  status.id = uid("status");
  status.setAttribute("aria-live", "polite");
  const picked = node("ul", "picked-options");
  picked.setAttribute("aria-label", `Chosen for ${label}`);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-expanded", "false");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-describedby", status.id);

  const draft = `${bid}/${aid}`;
  const entry = kept(ctx, bid, aid);
  const saved = multi
    ? (entry?.selected_options ?? element.initial_options ?? [])
    : [entry?.selected_option ?? element.initial_option].filter(Boolean);
  let chosen = ctx.drafts?.has(draft) ? ctx.drafts.get(draft) : saved;
  let shown = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  const values = () => chosen.map((option) => option.value);
  const showBox = () => {
    box.value = multi || !chosen.length ? "" : plain(chosen[0].text);
  };
  const showChosen = () => {
    showBox();
    picked.replaceChildren(
      ...(multi ? chosen : []).map((option) => {
        const item = node("li", "picked-option", plain(option.text));
        const remove = node("button", "btn small", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", `Remove ${plain(option.text)}`);
        remove.addEventListener("click", () => choose(chosen.filter((o) => o !== option)));
        item.append(remove);
        return item;
      }),
    );
  };
  const close = () => {
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = (index) => {
    active = index;
    [...list.children].forEach((item, at) => item.setAttribute("aria-selected", String(at === index)));
    if (index >= 0) box.setAttribute("aria-activedescendant", list.children[index].id);
  };
  async function choose(options) {
    chosen = options;
    ctx.drafts?.set(draft, chosen);
    showChosen();
    status.textContent = "";
    close();
    if (dispatch) {
      const single = chosen.length ? [chosen[0].value] : [];
      await ctx.act.select(ctx.target, element, multi ? values() : single, { block_id: bid });
    }
  }
  const pick = (option) => {
    if (!multi) return choose([option]);
    const others = chosen.filter((o) => o.value !== option.value);
    return choose([...others, option]);
  };
  const show = (options) => {
    shown = options;
    list.replaceChildren(
      ...options.map((option) => {
        const item = node("li", "suggestion", plain(option.text));
        item.id = uid("option");
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        // mousedown, not click: the box keeps its focus, so the list is still there.
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(option);
        });
        return item;
      }),
    );
    list.hidden = options.length === 0;
    box.setAttribute("aria-expanded", String(options.length > 0));
    status.textContent = options.length ? "" : "No matches";
  };
  const ask = async (typed) => {
    asked += 1;
    const mine = asked;
    status.textContent = "Searching…";
    const result = await ctx.act.suggest(ctx.target, element, bid, typed);
    if (mine !== asked) return; // a newer search is under way
    if (result?.ok) show(result.answer.options ?? []);
    else {
      close();
      status.textContent = result?.answer?.error ?? "The search failed";
    }
  };
  const typed = () => {
    clearTimeout(timer);
    const text = box.value;
    if (text === "" && !multi) {
      chosen = [];
      ctx.drafts?.set(draft, chosen);
    }
    if (text.length < least) {
      asked += 1;
      close();
      status.textContent = least ? `Type ${least} or more characters to search` : "";
      return;
    }
    timer = setTimeout(() => ask(text), DEBOUNCE_MS);
  };
  box.addEventListener("input", typed);
  box.addEventListener("focus", () => {
    if (least === 0 && list.hidden && box.value === "") typed();
  });
  box.addEventListener("blur", () => {
    close();
    showBox(); // what is chosen, not half-typed text (the list stays: it may be clicked)
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      event.stopPropagation(); // closes the list, not the modal
      close();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && shown.length) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
      mark((active + step + shown.length) % shown.length);
    } else if (event.key === "Enter") {
      event.preventDefault(); // as in Slack, Enter in a select never submits the modal
      if (!list.hidden && active >= 0) pick(shown[active]);
    }
  });
  ctx.inputs?.push({ bid, aid, read: () => (multi ? values() : (chosen[0]?.value ?? null)) });
  showChosen();
  wrap.append(box, list, status, picked);
  return wrap;
}
