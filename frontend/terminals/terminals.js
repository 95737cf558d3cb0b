// The editor's terminals (see frontend/src/terminal_dock.rs, which draws the dock and its
// tabs): xterm.js on the websocket of `GET /api/terminal?node=NAME`. Kept out of the wasm
// on purpose: the same work in Rust bindings cost 17 KB of the wasm over gzip, which is
// budgeted (tests/tests/editor_size.rs). xterm.js and its fit addon (installed by
// scripts/setup from npm, copied beside the editor by scripts/copy-xterm) load when the
// first terminal opens, not with every page.
//
// On the websocket, binary frames are the terminal's bytes both ways; text frames are
// control messages: `{"resize":{"cols":C,"rows":R}}` from here, `{"exit":{"code":N}}` (or
// `{"signal":N}`) from the server when the shell ended.
"use strict";
(() => {
  let loading = null;
  /** xterm.js, its styles and its fit addon, once. */
  function loadXterm() {
    loading ||= new Promise((resolve, reject) => {
      const style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = "/xterm/xterm.css";
      document.head.append(style);
      const scripts = ["/xterm/xterm.js", "/xterm/addon-fit.js"].map((src) => new Promise((loaded, failed) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = loaded;
        script.onerror = () => failed(new Error(`${src} did not load`));
        document.head.append(script);
      }));
      Promise.all(scripts).then(resolve, (error) => {
        loading = null;
        reject(error);
      });
    });
    return loading;
  }

  /** A message with `code` in backticks, as the editor shows the server's words. */
  function sentence(text) {
    const paragraph = document.createElement("p");
    paragraph.className = "terminal-refused";
    paragraph.setAttribute("role", "alert");
    text.split("`").forEach((part, index) => {
      if (index % 2 === 1) {
        const code = document.createElement("code");
        code.textContent = part;
        paragraph.append(code);
      } else {
        paragraph.append(part);
      }
    });
    return paragraph;
  }

  function endedWords(exit) {
    if (!exit) return "the connection to the server ended";
    if (exit.code === 0) return "the shell ended";
    if (exit.code !== undefined) return `the shell ended with code ${exit.code}`;
    return `the shell was ended by signal ${exit.signal}`;
  }

  /** Why the terminal on `node` did not open: a browser's websocket is told nothing of a
   * refused upgrade, so the same address is asked plainly (the server answers its refusal
   * as JSON, or 426 when it would have served it). */
  async function refusal(node) {
    try {
      const answer = await fetch(`/api/terminal?node=${encodeURIComponent(node)}`);
      if (answer.status !== 426) return (await answer.json()).message;
    } catch (_) {}
    return "The terminal could not connect to the server.";
  }

  const open = new Map();
  const api = {
    /** Told of each terminal's state: (id, "open" | "ended" | "refused", words). */
    onState: () => {},

    /** Opens a terminal on `node` in a new screen inside `container`. */
    open(container, id, node) {
      const screen = document.createElement("div");
      screen.className = "terminal-screen";
      screen.dataset.node = node;
      container.append(screen);
      const terminal = { screen, xterm: null, fit: null, socket: null, closed: false };
      open.set(id, terminal);
      const say = (state, words) => !terminal.closed && api.onState(id, state, words);
      loadXterm().then(() => {
        if (terminal.closed) return;
        const xterm = new Terminal({
          cursorBlink: true,
          fontSize: 13,
          scrollback: 5000,
          fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, monospace",
        });
        const fit = new FitAddon.FitAddon();
        xterm.loadAddon(fit);
        xterm.open(screen);
        Object.assign(terminal, { xterm, fit });
        api.fit(id);
        if (screen.classList.contains("shown")) xterm.focus();
        connect(terminal, node, say);
      }, () => {
        screen.append(sentence("The terminal's script (xterm.js) did not load: run `scripts/setup`, then build the editor again."));
        say("refused", "xterm.js did not load");
      });
    },

    /** Shows terminal `id` (and hides the others), fitted to its place, with the focus. */
    show(id) {
      for (const [other, terminal] of open) terminal.screen.classList.toggle("shown", other === id);
      api.fit(id);
      open.get(id)?.xterm?.focus();
    },

    /** Sizes terminal `id` to its screen, once the layout has settled (the server hears of
     * a new size through xterm's onResize). */
    fit(id) {
      requestAnimationFrame(() => {
        const terminal = open.get(id);
        if (terminal?.fit && terminal.screen.offsetWidth > 0) terminal.fit.fit();
      });
    },

    /** Closes terminal `id`: the server ends its shell. */
    close(id) {
      const terminal = open.get(id);
      if (!terminal) return;
      terminal.closed = true;
      open.delete(id);
      terminal.socket?.close(1000);
      terminal.xterm?.dispose();
      terminal.screen.remove();
    },
  };

  function connect(terminal, node, say) {
    const { xterm, screen } = terminal;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/terminal?node=${encodeURIComponent(node)}`);
    socket.binaryType = "arraybuffer";
    terminal.socket = socket;
    const encoder = new TextEncoder();
    const send = (data) => socket.readyState === WebSocket.OPEN && socket.send(data);
    const resize = () => send(JSON.stringify({ resize: { cols: xterm.cols, rows: xterm.rows } }));
    let opened = false;
    let exit = null;
    xterm.onData((data) => send(encoder.encode(data)));
    xterm.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    xterm.onResize(resize);
    // Ctrl+Shift+C copies the selection; Ctrl+Shift+V is left to the browser's paste.
    xterm.attachCustomKeyEventHandler((event) => {
      const shortcut = event.ctrlKey && event.shiftKey && (event.code === "KeyC" || event.code === "KeyV");
      if (shortcut && event.code === "KeyC" && event.type === "keydown") {
        event.preventDefault();
        navigator.clipboard?.writeText(xterm.getSelection());
      }
      return !shortcut;
    });
    socket.onopen = resize;
    socket.onmessage = (message) => {
      if (typeof message.data === "string") {
        try {
          exit = JSON.parse(message.data).exit ?? exit;
        } catch (_) {}
        return;
      }
      if (!opened) {
        opened = true;
        say("open", "");
      }
      xterm.write(new Uint8Array(message.data));
    };
    socket.onclose = async () => {
      if (terminal.closed) return;
      if (opened) {
        const words = endedWords(exit);
        xterm.write(`\r\n\x1b[2m[${words}]\x1b[0m\r\n`);
        say("ended", words);
        return;
      }
      const reason = await refusal(node);
      if (terminal.closed) return;
      xterm.dispose();
      terminal.xterm = terminal.fit = null;
      screen.replaceChildren(sentence(reason));
      say("refused", reason);
    };
  }

  // The screens follow the dock's size and the window's.
  const resized = new ResizeObserver(() => {
    for (const [id, terminal] of open) if (terminal.screen.classList.contains("shown")) api.fit(id);
  });
  api.watch = (container) => resized.observe(container);
  /** `listener(id, state, words)` is told of each terminal's state from now on. */
  api.listen = (listener) => {
    api.onState = listener;
  };

  window.nslabTerminals = api;
})();
