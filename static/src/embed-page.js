// The embed page's entry point (templates/embed.html, bundled as static/build/embed.js): the shared
// page plus the embed's options and postMessage API (embed.js, docs/embed.md).

import { initEmbed } from "./embed.js";
import { startPage } from "./page.js";

initEmbed(startPage());
