// The IDE page's entry point (templates/ide.html, bundled as static/build/ide.js): the shared page
// plus sharing and the examples gallery.

import { initGallery } from "./gallery.js";
import { startPage } from "./page.js";
import { initShare } from "./share.js";

const app = startPage();
initShare(app);
initGallery(app);
