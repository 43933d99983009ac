// The API's 422 messages by field path, for forms whose fields nest (`params.fast`,
// `grid.slow.start`, `sizing.fraction`): ui.js's `fieldError(name)` keys on the last part only,
// which cannot tell a sweep's `grid.fast.start` from the run's `start` date.
//
// Paths lose their `body.` / `query.` prefix and pydantic's union-member segments
// (`FractionSizing`, `function-after[...]`); errors about union alternatives a form never
// sends (`literal['all_in']`, `list[...]`) are skipped. The first message for a path wins.

import { html } from "../lib.js";
import { ErrorNote } from "../ui.js";

const UNION_ALTERNATIVE = /^(literal|list)\[/;

function normalize(field) {
  const parts = String(field || "").split(".");
  if (["body", "query", "path"].includes(parts[0])) parts.shift();
  if (parts.length && UNION_ALTERNATIVE.test(parts[parts.length - 1])) return null;
  return parts.filter((p) => p && !/[[(]/.test(p) && !/^[A-Z][A-Za-z]+$/.test(p)).join(".");
}

/** {path: message} of an ApiError (empty for anything else). */
export function problemFields(error) {
  const fields = {};
  for (const item of error?.problem?.errors || []) {
    const path = normalize(item.field);
    if (path !== null && !(path in fields)) fields[path] = item.msg;
  }
  return fields;
}

/** The message for `path` (or any of `paths`), or undefined. */
export function errorAt(error, ...paths) {
  const fields = problemFields(error);
  for (const path of paths) if (fields[path]) return fields[path];
  return undefined;
}

/** A form value as a JSON number, or undefined when left empty (the API's default applies). */
export function number(value) {
  if (value === "" || value === null || value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : value; // not a number: send it, the API names the field
}

/** Without empty values: `undefined` keys are dropped by JSON.stringify anyway; "" is not. */
export function compact(body) {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== ""));
}

/** The error as a note under the form unless its messages already sit at their fields. */
export function FormNote({ error }) {
  if (!error || Object.keys(problemFields(error)).length) return null;
  return html`<${ErrorNote} error=${error} />`;
}
