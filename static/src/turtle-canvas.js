// The turtle canvas: what a Python program's turtle draws (the `turtle` event of
// docs/protocol.md), and the clicks and keys it hears (the `canvas` event).
//
// The scene is the items the program's canvas would hold (lines, polygons, texts, pictures),
// by id; each batch of commands updates it and the canvas is drawn again once per animation
// frame. Text is drawn with fillText and pictures from data: URLs of the types the server
// allows, so nothing the program sends becomes markup.

const PICTURE_TYPES = ["image/gif", "image/png"];
const DRAG_INTERVAL_MS = 33; // at most 30 drag events a second
const TK_POINT_PX = 96 / 72; // Tk sizes fonts in points
// KeyboardEvent.key -> Tk's key name, for those whose names differ
const TK_KEYS = {
  ArrowUp: "Up", ArrowDown: "Down", ArrowLeft: "Left", ArrowRight: "Right", " ": "space",
  Enter: "Return", Backspace: "BackSpace", Escape: "Escape", Tab: "Tab", Delete: "Delete",
  Shift: "Shift_L", Control: "Control_L", Alt: "Alt_L", Meta: "Meta_L", PageUp: "Prior",
  PageDown: "Next", Home: "Home", End: "End", Insert: "Insert",
};

/** The Tk name of a key, or null for keys a turtle program cannot bind. */
export function tkKey(key) {
  if (TK_KEYS[key]) return TK_KEYS[key];
  if (/^F([1-9]|1[0-2])$/.test(key)) return key;
  return key.length === 1 ? key : null;
}

/** A scene: the items of the program's canvas, from batches of turtle commands. */
export class TurtleScene {
  constructor() {
    this.reset();
  }

  reset() {
    this.items = new Map();
    this.pictures = new Map(); // picture ref -> {mime, data}
    this.width = 640;
    this.height = 600;
    this.background = "white";
    this.backgroundPicture = null;
    this.title = "";
    this.view = [0, 0]; // the canvas's point at the window's centre (setworldcoordinates)
  }

  /** @param {unknown[]} commands */
  apply(commands) {
    for (const command of commands) {
      if (!Array.isArray(command)) continue;
      const [op, ...args] = command;
      if (op === "line") {
        const [id, coords, colour, width, z] = args;
        this.items.set(id, { kind: "line", coords, colour, width, z });
      } else if (op === "poly") {
        const [id, coords, fill, outline, width, z] = args;
        this.items.set(id, { kind: "poly", coords, fill, outline, width, z });
      } else if (op === "text") {
        const [id, coords, text, anchor, font, colour, z] = args;
        this.items.set(id, { kind: "text", coords, text, anchor, font, colour, z });
      } else if (op === "image") {
        const [id, coords, picture, z] = args;
        this.items.set(id, { kind: "image", coords, picture, z });
      } else if (op === "delete") {
        this.items.delete(args[0]);
      } else if (op === "clear") {
        this.items.clear();
      } else if (op === "size") {
        [this.width, this.height] = args.map((n) => Math.max(1, Math.min(4000, Math.round(n))));
      } else if (op === "view") {
        this.view = [Number(args[0]) || 0, Number(args[1]) || 0];
      } else if (op === "bg") {
        this.background = args[0] || "white";
      } else if (op === "bgpic") {
        this.backgroundPicture = args[0];
      } else if (op === "title") {
        this.title = String(args[0]);
      } else if (op === "picture" && PICTURE_TYPES.includes(args[1])) {
        this.pictures.set(args[0], { mime: args[1], data: args[2] });
      }
    }
  }

  /** The items in drawing order (the higher z on top). */
  ordered() {
    return [...this.items.values()].sort((a, b) => a.z - b.z);
  }
}

export class TurtleCanvas {
  /**
   * @param {HTMLElement} root  the pane that holds the canvas (hidden until something is drawn)
   * @param {{onEvent: (event: object) => void}} options  sends a `canvas` event
   */
  constructor(root, { onEvent }) {
    this.root = root;
    this.onEvent = onEvent;
    this.scene = new TurtleScene();
    this.images = new Map(); // picture ref -> HTMLImageElement
    this.frame = 0;
    this.lastDrag = 0;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "turtle-canvas";
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Turtle drawing: click it, then keys go to the program");
    root.append(this.canvas);
    this.listen();
  }

  /** A new run: an empty scene, the pane hidden until the run draws. */
  reset() {
    this.scene.reset();
    this.images.clear();
    this.root.hidden = true;
    this.draw();
  }

  apply(commands) {
    this.scene.apply(commands);
    this.root.hidden = false;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    const { scene, canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(scene.width * ratio) || canvas.height !== Math.round(scene.height * ratio)) {
      canvas.width = Math.round(scene.width * ratio);
      canvas.height = Math.round(scene.height * ratio);
      canvas.style.aspectRatio = `${scene.width} / ${scene.height}`;
      // As large as the program's window, but within the pane and --turtle-height (ide.css) high.
      canvas.style.width = `min(100%, ${scene.width}px, calc(var(--turtle-height) * ${scene.width / scene.height}))`;
    }
    canvas.title = scene.title;
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "white";
    context.fillRect(0, 0, scene.width, scene.height);
    context.fillStyle = scene.background;
    context.fillRect(0, 0, scene.width, scene.height);
    context.translate(scene.width / 2 - scene.view[0], scene.height / 2 - scene.view[1]);
    const background = this.image(scene.backgroundPicture);
    if (background) context.drawImage(background, -background.naturalWidth / 2, -background.naturalHeight / 2);
    for (const item of scene.ordered()) this.drawItem(context, item);
  }

  drawItem(context, item) {
    const { coords } = item;
    if (item.kind === "line" && item.colour && coords.length >= 4) {
      context.beginPath();
      this.path(context, coords);
      context.lineCap = "round";
      context.lineJoin = "round";
      context.lineWidth = Math.max(item.width, 1);
      context.strokeStyle = item.colour;
      context.stroke();
    } else if (item.kind === "poly" && coords.length >= 4 && (item.fill || item.outline)) {
      context.beginPath();
      this.path(context, coords);
      context.closePath();
      if (item.fill) {
        context.fillStyle = item.fill;
        context.fill("evenodd");
      }
      if (item.outline && item.width > 0) {
        context.lineJoin = "round";
        context.lineWidth = item.width;
        context.strokeStyle = item.outline;
        context.stroke();
      }
    } else if (item.kind === "text" && item.colour) {
      const [family, size, style] = item.font;
      const px = size < 0 ? -size : size * TK_POINT_PX;
      const weight = /bold/.test(style) ? "bold " : "";
      const slant = /italic/.test(style) ? "italic " : "";
      context.font = `${slant}${weight}${px}px "${String(family).replace(/["\\]/g, "")}", sans-serif`;
      context.fillStyle = item.colour;
      context.textBaseline = "bottom";
      context.textAlign = { sw: "left", s: "center", se: "right" }[item.anchor] || "left";
      context.fillText(item.text, coords[0], coords[1]);
    } else if (item.kind === "image") {
      const picture = this.image(item.picture);
      if (picture) context.drawImage(picture, coords[0] - picture.naturalWidth / 2, coords[1] - picture.naturalHeight / 2);
    }
  }

  path(context, coords) {
    context.moveTo(coords[0], coords[1]);
    for (let i = 2; i + 1 < coords.length; i += 2) context.lineTo(coords[i], coords[i + 1]);
  }

  /** The loaded picture of a ref, or null (it draws once it has loaded). */
  image(ref) {
    if (ref == null || !this.scene.pictures.has(ref)) return null;
    let picture = this.images.get(ref);
    if (!picture) {
      const { mime, data } = this.scene.pictures.get(ref);
      picture = new Image();
      picture.onload = () => this.apply([]);
      picture.src = `data:${mime};base64,${data}`;
      this.images.set(ref, picture);
    }
    return picture.complete && picture.naturalWidth ? picture : null;
  }

  /** A pointer's place in the program's canvas: pixels from its centre, y downwards. */
  point(event) {
    const box = this.canvas.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width - 0.5) * this.scene.width + this.scene.view[0];
    const y = ((event.clientY - box.top) / box.height - 0.5) * this.scene.height + this.scene.view[1];
    return { x: Math.round(x * 100) / 100, y: Math.round(y * 100) / 100, button: (event.button ?? 0) + 1 };
  }

  listen() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => {
      canvas.focus({ preventScroll: true });
      if (event.button > 2) return;
      canvas.setPointerCapture?.(event.pointerId);
      this.onEvent({ type: "click", ...this.point(event) });
    });
    canvas.addEventListener("pointerup", (event) => {
      if (event.button > 2) return;
      this.onEvent({ type: "release", ...this.point(event) });
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!event.buttons || event.timeStamp - this.lastDrag < DRAG_INTERVAL_MS) return;
      this.lastDrag = event.timeStamp;
      const button = event.buttons & 1 ? 1 : event.buttons & 4 ? 2 : 3;
      this.onEvent({ type: "drag", ...this.point(event), button });
    });
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    for (const [name, type] of [["keydown", "keydown"], ["keyup", "keyup"]]) {
      canvas.addEventListener(name, (event) => {
        if (event.ctrlKey || event.metaKey) return; // the browser's and the page's shortcuts
        const key = tkKey(event.key);
        if (!key) return;
        if (key !== "Tab") event.preventDefault(); // arrows and space must not scroll the page
        if (type === "keydown" && event.repeat && key.length > 1 && !/^(Up|Down|Left|Right)$/.test(key)) return;
        this.onEvent({ type, key });
      });
    }
  }
}
