// The "Libraries" panel under the console: what a program of the current language may import
// beyond its standard library (GET /api/languages' `libraries`), shown for the language chosen.

const $ = (id) => document.getElementById(id);

/** @param {{languages: Array<{id: string, name: string, libraries?: Array<{name: string, version: string, about: string}>}>, editor: {getLanguage: () => string}}} app */
export function initLibraries(app) {
  const panel = $("libraries");
  if (!panel) return;
  const show = (languageId) => {
    const language = app.languages.find((entry) => entry.id === languageId);
    const libraries = (language && language.libraries) || [];
    panel.hidden = !libraries.length;
    if (!libraries.length) return;
    $("libraries-title").textContent = `Libraries for ${language.name}`;
    const list = $("libraries-list");
    list.textContent = "";
    for (const library of libraries) {
      const item = document.createElement("li");
      const name = document.createElement("code");
      name.textContent = library.name;
      item.append(name, ` ${library.version}: ${library.about}`);
      list.append(item);
    }
  };
  document.body.addEventListener("language-change", (event) => show(event.detail.language));
  show(app.editor.getLanguage());
}
