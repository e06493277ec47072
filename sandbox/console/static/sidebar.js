// The sidebar, as Slack's: the channels and the app's Home, one open at a time, and the
// channels marked when a message arrives in them after the person last looked (the bot
// posts where it likes).
const $ = (id) => document.getElementById(id);

function order(ts) {
  const [seconds, micros] = String(ts).split(".");
  return [Number(seconds), Number(micros ?? 0)];
}

// Whether `ts` is newer than `than` (null: nothing seen there yet).
function newer(ts, than) {
  if (than === null || than === undefined) return true;
  const [a, b] = [order(ts), order(than)];
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

export class Sidebar {
  // `onOpen()` runs after the person opens another channel, or opens the Home (even when
  // it is open: Slack tells the app each time, and the app may publish it afresh).
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.channel = document.body.dataset.channel; // the open one, or the last before Home
    this.home = document.body.dataset.view === "home";
    this.items = [...document.querySelectorAll(".sidebar-item")];
    this.seen = null; // channel id → newest ts seen there; null until the first state
    for (const item of this.items) {
      item.addEventListener("click", () => this.open(item.dataset.channel ?? null));
    }
  }

  // Opens a channel, or the Home when `channel` is null.
  open(channel) {
    if (channel !== null && channel === this.channel && !this.home) return;
    this.home = channel === null;
    if (channel !== null) this.channel = channel;
    const url = new URL(window.location.href);
    url.searchParams.set("channel", this.channel);
    if (this.home) url.searchParams.set("view", "home");
    else url.searchParams.delete("view");
    window.history.replaceState(null, "", url);
    for (const item of this.items) {
      const current = this.home ? item.dataset.view === "home" : item.dataset.channel === channel;
      if (current) item.setAttribute("aria-current", "page");
      else item.removeAttribute("aria-current");
    }
    this.onOpen();
  }

  // Someone else is acting: what they have seen starts afresh from the next state.
  forget() {
    this.seen = null;
  }

  // `listed` is the state's sidebar: [{id, name, latest}]; the open channel counts as seen.
  show(listed) {
    this.seen ??= Object.fromEntries(listed.map((channel) => [channel.id, channel.latest]));
    for (const channel of listed) {
      if (channel.id === this.channel && !this.home) this.seen[channel.id] = channel.latest;
      const fresh = channel.latest !== null && newer(channel.latest, this.seen[channel.id]);
      const item = this.items.find((each) => each.dataset.channel === channel.id);
      item?.classList.toggle("unread", fresh);
      const news = $(`${channel.id}-news`);
      if (news) news.textContent = fresh ? "new messages" : "";
    }
  }
}
