// The one WebSocket (`/api/v1/ws`, docs/realtime.md) every live view shares.
//
// Pages subscribe with `useLive(channel, symbols, onEvent)`; this module keeps the union of
// subscriptions, authenticates with the in-memory token as the first message (a browser cannot
// set headers on an upgrade, and tokens never go in the URL), reconnects with backoff, and on
// reconnect resubscribes with `since_seq` per stream so the server replays what was missed or
// says `gap` (then pages reload their data). The connection state is explicit, as the issue
// asks: `live`, `reconnecting` or `stale` (no frame or pong for a while), with `as_of`, the
// time of the last frame.
import { onToken, token } from "./api.js";
import { useEffect, useRef } from "./lib.js";
import { store } from "./store.js";

export const connection = store({ state: "connecting", asOf: null });

const STALE_AFTER_MS = 40_000; // the server pings every 25 s
const handlers = new Map(); // "channel|SYMBOL" -> Set(handler)
const lastSeq = new Map(); // stream name ("quotes:GOOG") -> seq
let epoch = null;
let socket = null;
let attempt = 0;
let lastFrame = 0;
let nextId = 1;

function key(channel, symbol) {
  return `${channel}|${symbol ?? ""}`;
}

function streamMatches(stream, channel, symbol) {
  // quotes:GOOG, bars:GOOG:1d, signals:GOOG, orders:7, alerts:3, jobs:backtests:3, jobs:failed
  const [name, first] = stream.split(":");
  if (name !== channel) return false;
  return symbol === undefined || symbol === null || symbol === "*" || first === symbol;
}

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function subscribeMessage(channel, symbols) {
  const message = { action: "subscribe", channel, id: nextId++ };
  if (symbols.length) message.symbols = symbols;
  // Resume: the smallest seq seen on this channel's streams (the server replays per stream).
  const seen = [...lastSeq.entries()].filter(([stream]) => stream.startsWith(`${channel}:`));
  if (seen.length && epoch) {
    message.since_seq = Math.min(...seen.map(([, seq]) => seq));
    message.epoch = epoch;
  }
  return message;
}

function subscribeAll() {
  const byChannel = new Map();
  for (const entry of handlers.keys()) {
    const [channel, symbol] = entry.split("|");
    if (!byChannel.has(channel)) byChannel.set(channel, []);
    if (symbol) byChannel.get(channel).push(symbol);
  }
  for (const [channel, symbols] of byChannel) send(subscribeMessage(channel, symbols));
}

function deliver(frame) {
  if (frame.type === "ack") {
    if (frame.epoch && frame.epoch !== epoch) lastSeq.clear(); // another numbering
    if (frame.epoch) epoch = frame.epoch;
    return;
  }
  if (frame.type === "ping") return send({ action: "pong" });
  if (["pong", "error"].includes(frame.type)) return;
  if (frame.seq && frame.channel) {
    // One since_seq covers all of a subscription's streams, so a replay can repeat frames.
    if (frame.seq <= (lastSeq.get(frame.channel) ?? 0)) return;
    lastSeq.set(frame.channel, frame.seq);
  }
  for (const [entry, set] of handlers) {
    const [channel, symbol] = entry.split("|");
    const matches =
      frame.type === "gap"
        ? frame.channel === undefined || streamMatches(frame.channel, channel, symbol || undefined)
        : frame.channel && streamMatches(frame.channel, channel, symbol || undefined);
    if (matches) for (const handler of set) handler(frame);
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
  connection.set((c) => ({ ...c, state: attempt ? "reconnecting" : "connecting" }));
  socket.onopen = () => {
    attempt = 0;
    lastFrame = Date.now();
    // Signed in: authenticate first; a guest's first subscribe makes it a guest connection.
    if (token()) send({ action: "auth", token: token() });
    subscribeAll();
    connection.set({ state: "live", asOf: new Date() });
  };
  socket.onmessage = (event) => {
    lastFrame = Date.now();
    connection.set({ state: "live", asOf: new Date() });
    const parsed = JSON.parse(event.data);
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) deliver(frame);
  };
  socket.onclose = () => {
    socket = null;
    attempt += 1;
    connection.set((c) => ({ ...c, state: "reconnecting" }));
    const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
    setTimeout(connect, delay);
  };
}

// A quiet socket is not proof of a dead one: ask for a pong, and call the data stale when
// nothing at all has arrived for STALE_AFTER_MS.
setInterval(() => {
  if (!socket) return;
  if (Date.now() - lastFrame > STALE_AFTER_MS) connection.set((c) => ({ ...c, state: "stale" }));
  send({ action: "ping", id: nextId++ });
}, 15_000);

// A new identity (sign-in, sign-out) needs a new connection: a socket cannot drop its auth.
onToken(() => {
  lastSeq.clear();
  socket?.close();
});

export function start() {
  if (!socket) connect();
}

/** Subscribe while the component is mounted; `onEvent(frame)` sees matching frames and gaps. */
export function useLive(channel, symbols, onEvent) {
  const callback = useRef(onEvent);
  callback.current = onEvent;
  const wanted = symbols === null ? [null] : [].concat(symbols ?? [null]);
  const signature = wanted.join(",");
  useEffect(() => {
    const handler = (frame) => callback.current(frame);
    const added = [];
    for (const symbol of wanted) {
      const entry = key(channel, symbol);
      const fresh = !handlers.has(entry);
      if (fresh) handlers.set(entry, new Set());
      handlers.get(entry).add(handler);
      if (fresh) added.push(symbol);
    }
    const symbolsToSend = added.filter((s) => s);
    if (added.length) send(subscribeMessage(channel, symbolsToSend));
    return () => {
      const dropped = [];
      for (const symbol of wanted) {
        const entry = key(channel, symbol);
        const set = handlers.get(entry);
        set?.delete(handler);
        if (set && !set.size) {
          handlers.delete(entry);
          if (symbol) dropped.push(symbol);
        }
      }
      if (dropped.length) send({ action: "unsubscribe", channel, symbols: dropped });
    };
  }, [channel, signature]);
}
