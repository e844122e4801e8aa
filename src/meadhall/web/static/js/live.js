// One gateway connection per page, shared by every part of it.
//
//   import { live } from "./live.js";
//   const off = live.on("library:" + viewer.userId, (frame) => …);   // frame.event, frame.data
//   live.onResync(() => reloadEverything());
//
// Topics are subscribed on first use; the connection starts on the first listener.

import { EventStream } from "./events.js";

class LiveUpdates {
  constructor() {
    this.handlers = new Map();
    this.resyncHandlers = new Set();
    this.statusHandlers = new Set();
    this.stream = null;
  }

  ensureStream() {
    if (this.stream) return this.stream;
    this.stream = new EventStream({
      topics: [...this.handlers.keys()],
      onEvent: (frame) => {
        for (const handler of this.handlers.get(frame.topic) || []) handler(frame);
      },
      onResync: (frame) => {
        for (const handler of this.resyncHandlers) handler(frame);
      },
      onStatus: (status, frame) => {
        for (const handler of this.statusHandlers) handler(status, frame);
      },
    });
    this.stream.start();
    return this.stream;
  }

  on(topic, handler) {
    if (!this.handlers.has(topic)) this.handlers.set(topic, new Set());
    this.handlers.get(topic).add(handler);
    const stream = this.ensureStream();
    stream.subscribe([topic]);
    return () => {
      const set = this.handlers.get(topic);
      if (!set) return;
      set.delete(handler);
      if (!set.size) {
        this.handlers.delete(topic);
        stream.unsubscribe([topic]);
      }
    };
  }

  onResync(handler) {
    this.resyncHandlers.add(handler);
    return () => this.resyncHandlers.delete(handler);
  }

  onStatus(handler) {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }
}

export const live = new LiveUpdates();
