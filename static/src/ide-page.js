// The IDE page's entry point (templates/ide.html, bundled as static/build/ide.js): the shared page
// plus sharing, the examples gallery and the libraries panel.

import { initGallery } from "./gallery.js";
import { initLibraries } from "./libraries.js";
import { startPage } from "./page.js";
import { initShare } from "./share.js";

const app = startPage();
initShare(app);
initGallery(app);
initLibraries(app);
