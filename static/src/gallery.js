// The examples gallery on the IDE page. htmx loads the list of the current language's examples
// (GET /gallery?language=..., a partial) into #gallery and reloads it when the language changes
// (the "language-change" event); a click on an example loads its program
// (GET /api/examples/<language>/<name>) into the editor.

import { replaceProgram } from "./share.js";

export function initGallery(app) {
  const gallery = document.getElementById("gallery");
  if (!gallery) return;
  // The editor's language, also while the language menu is disabled (htmx leaves those out).
  gallery.addEventListener("htmx:configRequest", (event) => {
    event.detail.parameters.language = app.editor.getLanguage();
  });
  gallery.addEventListener("click", async (event) => {
    const button = event.target.closest(".gallery-item");
    if (!button) return;
    const { language, name } = button.dataset;
    try {
      const response = await fetch(`/api/examples/${encodeURIComponent(language)}/${encodeURIComponent(name)}`, {
        headers: { Accept: "application/json" },
      });
      const example = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(example.error || `the server answered ${response.status}`);
      replaceProgram(example.language, example.code, `the example “${example.title}”`);
    } catch (error) {
      app.showBanner(`The example could not be loaded: ${error.message}`, "warn", 6000);
    }
  });
}
