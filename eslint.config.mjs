// ESLint's flat config: the recommended rules (real mistakes, not style) over the front end's
// sources, its unit tests and this file. `npm run lint` runs it.
//
// This file is .mjs because the repository's package.json cannot say "type": "module": the local
// backend preloads sandbox/lang/node-stdin.js, a CommonJS file under it, into JavaScript programs.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "static/build/"] },
  js.configs.recommended,
  {
    files: ["static/src/**/*.js"],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.mjs"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
