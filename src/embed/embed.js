// <live-stream-health>: the live stream health widget as a custom element,
// for host pages that would rather not wire an iframe and postMessage by
// hand. Served as written (no build step, no dependencies) next to the
// widget's index.html; CI keeps it under 3 KB gzip (tests/size-report.sh).
// Design and its reasons: src/embed/README.md.
(() => {
  "use strict";
  const NAME = "live-stream-health";
  // Included twice (or by two bundles): the first definition stays.
  if (!window.customElements || customElements.get(NAME)) return;

  const script = document.currentScript;
  const BASE = script && script.src ? new URL(".", script.src).href : "";

  // Attributes that become the widget's URL parameters.
  const PARAMS = ["endpoint", "layout", "theme", "interval", "history", "alerts", "viewers"];
  // Those the widget takes at run time (lsh:config): the values it accepts
  // there, and its defaults. Any other value reloads the frame, so the
  // widget says what is wrong with it and falls back to its default.
  const LIVE = {
    layout: [/^(full|compact)$/, "full"],
    theme: [/^(auto|light|dark)$/, "auto"],
    interval: [/^\d+(\.\d+)?$/, "5"],
  };
  // The widget's messages and the DOM events they become.
  const EVENTS = {
    __proto__: null,
    "lsh:ready": "ready",
    "lsh:status": "statuschange",
    "lsh:token-expiring": "tokenexpiring",
    "lsh:token-rejected": "tokenrejected",
  };
  // The element's height follows the widget's content (lsh:resize) as a
  // :host rule, so a height the page gives the element wins over it.
  const STYLE =
    "<style>:host{display:block;height:150px}:host([hidden]){display:none}" +
    "iframe{display:block;width:100%;height:100%;border:0}</style><style></style>";

  class LiveStreamHealth extends HTMLElement {
    static observedAttributes = [...PARAMS, "src", "token"];

    #on = false; // connected: attribute changes act on the frame
    #frame = null;
    #origin = ""; // the widget's origin: the only one heard and posted to
    #built = {}; // the settings written into the frame's URL
    #sent = {}; // the run-time settings the widget has now
    #ready = false; // the widget said lsh:ready: it hears messages
    #queued = false; // a reload is due at the end of this task
    #token = null;
    #quiet = false; // the token setter removing the attribute
    #status = null;
    #state = null;

    constructor() {
      super();
      this.attachShadow({ mode: "open" }).innerHTML = STYLE;
    }

    /** The latest `status` the widget reported, or null. */
    get status() {
      return this.#status;
    }

    /** The latest `state` the widget reported, or null. */
    get state() {
      return this.#state;
    }

    /** Only what the `token` attribute shows: a token set as a property
     * cannot be read back. */
    get token() {
      return this.getAttribute("token");
    }

    set token(value) {
      if (this.hasAttribute("token")) {
        this.#quiet = true;
        this.removeAttribute("token");
        this.#quiet = false;
      }
      this.#setToken(value == null ? null : String(value));
    }

    connectedCallback() {
      // Properties a framework set before this script defined the element.
      for (const name of LiveStreamHealth.observedAttributes) {
        if (Object.prototype.hasOwnProperty.call(this, name)) {
          const value = this[name];
          delete this[name];
          this[name] = value;
        }
      }
      this.#on = true;
      window.addEventListener("message", this.#onMessage);
      this.#build();
    }

    disconnectedCallback() {
      this.#on = false;
      window.removeEventListener("message", this.#onMessage);
      this.#teardown();
    }

    attributeChangedCallback(name, old, value) {
      if (name === "token") {
        if (!this.#quiet) this.#setToken(value);
      } else if (this.#on && old !== value) {
        if (name in LIVE) this.#configure();
        else this.#reload();
      }
    }

    #setToken(token) {
      this.#token = token || null;
      if (!this.#on) return;
      if (this.#token) {
        if (this.#ready) this.#post({ type: "lsh:token", token: this.#token });
      } else {
        // The widget cannot drop a token: a new frame starts without one.
        this.#reload();
      }
    }

    #reload() {
      if (this.#queued) return;
      this.#queued = true;
      queueMicrotask(() => this.#queued && this.#build());
    }

    #teardown() {
      this.#queued = this.#ready = false;
      this.#frame = this.#status = this.#state = null;
      this.shadowRoot.innerHTML = STYLE;
    }

    #build() {
      this.#teardown();
      const src = this.getAttribute("src") || BASE;
      let url = null;
      try {
        url = src && new URL(src, document.baseURI);
      } catch {}
      if (!url || !/^https?:$/.test(url.protocol)) {
        const notice = document.createElement("p");
        notice.textContent = "live-stream-health: set src to the address of the widget.";
        this.shadowRoot.append(notice);
        return;
      }
      url.hash = "";
      const params = new URLSearchParams({ origin: location.origin });
      const built = {};
      for (const name of PARAMS) {
        const value = (built[name] = this.getAttribute(name));
        if (value !== null) params.set(name, value);
      }
      if (this.#token && this.#token === this.getAttribute("token")) {
        params.set("token", (built.token = this.#token));
      }
      const frame = document.createElement("iframe");
      frame.title = "Live stream health";
      frame.referrerPolicy = "no-referrer";
      frame.src = url.href + "#" + params;
      this.#origin = url.origin;
      this.#built = built;
      this.#frame = frame;
      this.shadowRoot.append(frame);
    }

    // After every lsh:ready (the first, or the frame reloading itself from
    // its URL): the widget has what the URL says; send what changed since.
    #sync() {
      this.#sent = { ...this.#built };
      if (this.#token && this.#token !== this.#built.token) {
        this.#post({ type: "lsh:token", token: this.#token });
      }
      this.#configure();
    }

    #configure() {
      if (!this.#ready) return;
      const change = {};
      let changed = false;
      for (const name in LIVE) {
        const [valid, fallback] = LIVE[name];
        const value = this.getAttribute(name) ?? fallback;
        if (value !== (this.#sent[name] ?? fallback)) {
          if (!valid.test(value)) return this.#reload();
          change[name] = name === "interval" ? Number(value) : value;
          changed = true;
        }
      }
      if (changed) {
        this.#post({ type: "lsh:config", ...change });
        for (const name in change) this.#sent[name] = this.getAttribute(name);
      }
    }

    #post(message) {
      this.#frame.contentWindow.postMessage({ v: 1, ...message }, this.#origin);
    }

    // Only the own frame's messages, from the widget's origin, of protocol
    // version 1 (or without a version: widgets older than the field).
    #onMessage = (event) => {
      const frame = this.#frame;
      if (!frame || event.source !== frame.contentWindow || event.origin !== this.#origin) return;
      const { type, v, token, ...detail } = Object(event.data);
      if (v !== undefined && v !== 1) return;
      if (type === "lsh:resize") {
        const height = detail.height;
        if (height >= 0) this.shadowRoot.children[1].textContent = `:host{height:${Math.min(height, 1e4)}px}`;
        return;
      }
      if (type === "lsh:status") {
        this.#status = detail.status;
        this.#state = detail.state;
      }
      if (type === "lsh:ready") {
        this.#ready = true;
        this.#sync();
      }
      const name = EVENTS[type];
      if (name) this.dispatchEvent(new CustomEvent(name, { detail }));
    };
  }

  // Properties for the attributes, reflected as the DOM does.
  for (const name of [...PARAMS, "src"]) {
    Object.defineProperty(LiveStreamHealth.prototype, name, {
      get() {
        return this.getAttribute(name);
      },
      set(value) {
        if (value == null) this.removeAttribute(name);
        else this.setAttribute(name, value);
      },
    });
  }

  customElements.define(NAME, LiveStreamHealth);
})();
