// Structured outputs: the `responseFormat` shapes a chat request may name, and how each provider
// family takes a JSON schema. Where a provider takes only `json_object` (Kimi, GLM), the engine
// writes the schema into the system prompt, sends `json_object`, and checks the answer against the
// schema on the worker (src/worker/providers/structured.ts, src/worker/call/structured.ts).

/** A JSON Schema, as JSON data (`{ type: 'object', properties: {...}, required: [...] }`). */
export type JsonSchema = Record<string, unknown>;

/**
 * `responseFormat: { type: 'json_schema', json_schema }` — what the openai SDK's
 * `zodResponseFormat(schema, name)` returns. The answer is JSON that matches `schema`; the result
 * carries it parsed as `parsed`.
 */
export type JsonSchemaResponseFormat = {
  /** `'json_schema'`. */
  type: 'json_schema';
  /** The schema and its name. */
  json_schema: {
    /** The schema's name (letters, digits, `_` and `-`, at most 64). */
    name: string;
    /** What the answer is for, shown to the model. @default none */
    description?: string;
    /** The JSON Schema the answer must match. @default none: any JSON object */
    schema?: JsonSchema;
    /** OpenAI's strict mode (the provider enforces the schema itself); Kimi and GLM: the engine checks the answer. @default false */
    strict?: boolean | null;
  };
};

/** The `responseFormat` shapes: plain text, any JSON object, or JSON that matches a schema. */
export type ResponseFormat =
  | {
      /** Plain text (the providers' default). */
      type: 'text';
    }
  | {
      /** A JSON object, of no particular shape (tell the model which in the prompt). */
      type: 'json_object';
    }
  | JsonSchemaResponseFormat;

/**
 * How a provider family takes a JSON schema: `json_schema` as OpenAI defines it (the provider
 * enforces it), or only `json_object` (Kimi, GLM: the schema goes into the system prompt and the
 * answer is checked against it on the worker).
 */
export type StructuredOutputSupport = 'json_schema' | 'json_object';
