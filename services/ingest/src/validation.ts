import Ajv, { type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

const COMMON: Options = {
  allErrors: true,
  removeAdditional: false,
  allowUnionTypes: true,
  useDefaults: true,
  strict: false,
};

/**
 * Bodies are checked as they are (a "true" string is not a boolean); query strings and path
 * parameters arrive as text, so they are coerced to the types their schemas name.
 */
export function validatorCompiler(): FastifySchemaCompiler<object> {
  const strict = addFormats(new Ajv({ ...COMMON, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...COMMON, coerceTypes: "array" }));
  return ({ schema, httpPart }) => (httpPart === "body" ? strict : coercing).compile(schema);
}
