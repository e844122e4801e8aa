// A small client of the event gateway (WebSocket /api/events, JSON frames; the full protocol is
// described in meadhall/platform/events/gateway.py).
//
//   server -> {"type": "ready", "user_id", "last_event_id", ...}      once authenticated
//   client -> {"type": "subscribe", "topics": [...], "last_event_id": "<id>"}
//   server -> {"type": "event", "id", "topic", "event", "data", "at"}
//   server -> {"type": "resync", "reason", "topics"?}   events were lost: reload state
//   server -> {"type": "reauth"}   the access token expires soon: send {"type": "auth", "token"}
//
// The browser's cookie authenticates the socket. The client reconnects with backoff and asks
// for what it missed since the last event id it saw; when the server cannot replay that, it
// answers "resync" and the page reloads its state from the API.
//
//   const stream = new EventStream({ topics: ["user:<id>"], onEvent, onResync });
//   stream.start();

import { refreshSession } from "./api.js";

const PATH = "/api/events";
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const CLOSE_NOT_AUTHENTICATED = 4401;
const CLOSE_FORBIDDEN_ORIGIN = 4403;

export class EventStream {
  constructor({ topics = [], onEvent = () => {}, onResync = () => {}, onStatus = () => {} } = {}) {
    this.topics = new Set(topics);
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.onStatus = onStatus;
    this.lastEventId = null;
    this.socket = null;
    this.ready = false;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.renewedSinceReady = false;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "client stopped");
    this.socket = null;
  }

  subscribe(topics) {
    const fresh = topics.filter((topic) => !this.topics.has(topic));
    fresh.forEach((topic) => this.topics.add(topic));
    if (fresh.length) this.send({ type: "subscribe", topics: fresh, last_event_id: this.lastEventId });
  }

  unsubscribe(topics) {
    const known = topics.filter((topic) => this.topics.delete(topic));
    if (known.length) this.send({ type: "unsubscribe", topics: known });
  }

  send(message) {
    if (this.ready && this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${PATH}`);
    this.socket = socket;
    this.ready = false;
    this.onStatus("connecting");
    socket.addEventListener("message", (message) => this.receive(message));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(message) {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "ready":
        this.ready = true;
        this.attempt = 0;
        this.renewedSinceReady = false;
        // First connection: everything from now on. Reconnection: everything since the last
        // event seen, so nothing is lost in between.
        if (this.lastEventId === null) this.lastEventId = frame.last_event_id ?? null;
        if (this.topics.size) {
          this.send({ type: "subscribe", topics: [...this.topics], last_event_id: this.lastEventId });
        }
        this.onStatus("open");
        break;
      case "subscribed":
        this.onStatus("subscribed", frame);
        break;
      case "event":
        this.lastEventId = frame.id;
        this.onEvent(frame);
        break;
      case "resync":
        this.onResync(frame);
        break;
      case "reauth":
        this.reauthenticate();
        break;
      case "error":
        console.warn("event gateway:", frame.message);
        break;
      default:
        break;
    }
  }

  // The access cookie is out of reach of scripts; a refresh returns a fresh token to hand over.
  async reauthenticate() {
    const tokens = await refreshSession();
    if (tokens && tokens.access_token) this.send({ type: "auth", token: tokens.access_token });
  }

  closed(socket, event) {
    if (this.socket !== socket) return;
    this.socket = null;
    this.ready = false;
    if (this.stopped) return;
    this.onStatus("closed");
    if (event.code === CLOSE_FORBIDDEN_ORIGIN) {
      this.stopped = true;
    } else if (event.code === CLOSE_NOT_AUTHENTICATED) {
      this.renewThenReconnect();
    } else {
      this.scheduleReconnect();
    }
  }

  async renewThenReconnect() {
    // One renewal per failure: a session that cannot be renewed ends the stream.
    if (this.renewedSinceReady || !(await refreshSession())) {
      this.stopped = true;
      this.onStatus("unauthorized");
      return;
    }
    this.renewedSinceReady = true;
    this.connect();
  }

  scheduleReconnect() {
    const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
    // Jitter: many clients cut off together do not all come back at the same moment.
    const delay = MIN_DELAY_MS / 2 + Math.random() * ceiling;
    this.attempt += 1;
    this.timer = window.setTimeout(() => this.connect(), delay);
  }
}
