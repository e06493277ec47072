// The two dialogs: a button's `confirm` object, and the person's open Slack modal.
import { renderBlocks } from "./blocks.js";
import { plain, textObject } from "./mrkdwn.js";

const $ = (id) => document.getElementById(id);

// Resolves true when the person confirms, false when they cancel (nothing is sent then).
export function confirmDialog(confirm, ctx) {
  const dialog = $("confirm");
  const ok = $("confirm-ok");
  const deny = $("confirm-deny");
  $("confirm-title").textContent = plain(confirm.title) || "Are you sure?";
  $("confirm-text").replaceChildren(textObject(confirm.text, ctx, "div"));
  ok.textContent = plain(confirm.confirm) || "Yes";
  deny.textContent = plain(confirm.deny) || "Cancel";
  ok.className = `btn ${confirm.style === "danger" ? "danger" : "primary"}`;
  return new Promise((resolve) => {
    const listening = new AbortController();
    const finish = (answer) => {
      listening.abort();
      dialog.close();
      resolve(answer);
    };
    const signal = listening.signal;
    ok.addEventListener("click", () => finish(true), { signal });
    deny.addEventListener("click", () => finish(false), { signal });
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    }, { signal });
    dialog.showModal();
    deny.focus();
  });
}

export class Modal {
  constructor(act) {
    this.act = act;
    this.dialog = $("modal");
    this.view = null;
    this.shown = "";
    this.inputs = [];
    this.drafts = new Map();
    this.busy = false;
    $("modal-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    $("modal-close").addEventListener("click", () => this.close());
    this.dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      this.close();
    });
  }

  // Shows `modal` (from /api/state), or hides the dialog when there is none.
  show(modal, base) {
    if (!modal) {
      this.view = null;
      this.shown = "";
      if (this.dialog.open) this.dialog.close();
      return;
    }
    const key = JSON.stringify(modal);
    if (key === this.shown && this.dialog.open) return;
    this.shown = key;
    this.view = modal;
    if (!this.drafts.has(modal.view_id)) this.drafts.set(modal.view_id, new Map());
    this.inputs = [];
    // An action in the modal carries what the person has put in its inputs so far, as
    // Slack reports it in the view's state.
    const act = {
      ...base.act,
      click: (target, element, extra) =>
        base.act.click(target, element, { ...extra, inputs: this.values() }),
      select: (target, element, values, extra) =>
        base.act.select(target, element, values, { ...extra, inputs: this.values() }),
    };
    const ctx = {
      ...base,
      act,
      target: { view_id: modal.view_id },
      state: modal.state,
      errors: modal.errors,
      drafts: this.drafts.get(modal.view_id),
      inputs: this.inputs,
    };
    $("modal-title").textContent = modal.title;
    const depth = $("modal-depth");
    depth.hidden = modal.depth === 0;
    depth.textContent = `Step ${modal.depth + 1}`;
    $("modal-body").replaceChildren(renderBlocks(modal.blocks, ctx));
    const submit = $("modal-submit");
    submit.hidden = !modal.submit;
    submit.textContent = modal.submit ?? "Submit";
    $("modal-close").textContent = modal.close || "Cancel";
    if (!this.dialog.open) this.dialog.showModal();
    const invalid = this.dialog.querySelector("[aria-invalid=true]");
    const first = this.dialog.querySelector("#modal-body input, #modal-body textarea");
    (invalid ?? first)?.focus();
  }

  // `{block_id: {action_id: value}}` of the modal's input blocks (an actions block's select
  // reports its choice when it is made).
  values() {
    const inputs = new Set(
      (this.view?.blocks ?? []).filter((b) => b.type === "input").map((b) => b.block_id),
    );
    const values = {};
    for (const { bid, aid, read } of this.inputs) {
      if (inputs.has(bid)) (values[bid] ??= {})[aid] = read();
    }
    return values;
  }

  async run(action) {
    if (!this.view || this.busy) return;
    this.busy = true;
    for (const button of this.dialog.querySelectorAll(".dialog-buttons button")) {
      button.disabled = true;
    }
    try {
      await action(this.view.view_id);
    } finally {
      this.busy = false;
      for (const button of this.dialog.querySelectorAll(".dialog-buttons button")) {
        button.disabled = false;
      }
    }
  }

  submit() {
    return this.run((viewId) => this.act.submit(viewId, this.values()));
  }

  close() {
    return this.run((viewId) => this.act.close(viewId));
  }
}
