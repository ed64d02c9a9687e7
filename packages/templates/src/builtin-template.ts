/**
 * The body sent for an entry when the integration has neither a template for its kind nor a
 * default one (ARCHITECTURE.md, "Template choice"). It is rendered as a JSON template: the
 * entry's strings are JSON-escaped first.
 */
export const BUILTIN_DEFAULT_TEMPLATE = `{
  "date": "{{timestamp.rfc3339}}",
  "event": {
    "kind": "{{kind}}",
    "action": "{{verbKind}}"
  },
  "tags": "{{tags}}",
  "message": "{{{title.plainText}}}",
  "details": "{{{details.plainText}}}",
  "comment": "{{#if comment}}{{{comment}}}{{/if}}"
}
`;

/** The file name the built-in template reports in errors; it ends in .json, so it is a JSON template. */
export const BUILTIN_DEFAULT_TEMPLATE_FILE = "builtin:default.json.hbs";
