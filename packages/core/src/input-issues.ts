import type { z } from 'zod';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  InitializeRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/core';
import type { JSONRPCRequest } from '@modelcontextprotocol/server';

/** What zod expected, in words a model reads: `number` → "a number", `int` → "a whole number". */
const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  date: 'a date',
  null: 'null',
};

/** What was given instead, by its JSON type and a short preview: `the string "lots"`, `the number 5`. */
export function describeGiven(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'an object';
  const preview = JSON.stringify(value) ?? String(value);
  const short = preview.length > 40 ? `${preview.slice(0, 39)}…"` : preview;
  if (typeof value === 'string') return `the string ${short}`;
  if (typeof value === 'number') return `the number ${short}`;
  if (typeof value === 'boolean') return `${short}`;
  return typeof value;
}

/** The value at a zod path inside the raw input; `absent` when a step of the path is not there. */
function valueAt(input: unknown, path: readonly PropertyKey[]): { absent: boolean; value?: unknown } {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return { absent: true };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node === undefined ? { absent: true } : { absent: false, value: node };
}

/**
 * The wrong fields of a zod error, each in a few words: `'id' is required`, `'limit' must be a number, not the
 * string "lots"`, `unknown argument 'limt'`. Zod 4 leaves the input out of its issues, so the value is read from
 * the arguments themselves: only a field that is truly absent is called required.
 */
function issueList(error: { issues: readonly z.core.$ZodIssue[] }, input: unknown): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return `unknown argument${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    const at = valueAt(input, issue.path);
    if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (at.absent) return path ? `'${path}' is required` : `${expected} is required`;
      return `${path ? `'${path}'` : 'the arguments'} must be ${expected}, not ${describeGiven(at.value)}`;
    }
    const given = !at.absent && issue.code === 'invalid_value' ? `, not ${describeGiven(at.value)}` : '';
    return path ? `'${path}': ${issue.message}${given}` : `${issue.message}${given}`;
  });
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return `${parts.join('; ')}${more}`;
}

/** One sentence naming each wrong argument and what is wrong with it. */
export function describeInputIssues(toolName: string, error: z.ZodError, input?: unknown): string {
  return `Invalid arguments for ${toolName}: ${issueList(error, input)}. Check the tool's input schema and call it again.`;
}

/** The sentence of a `-32602 Invalid params` answer to a request whose params break the MCP schema. */
export function describeRequestIssues(
  method: string,
  error: { issues: readonly z.core.$ZodIssue[] },
  request?: unknown,
): string {
  return `Invalid params for ${method}: ${issueList(error, request)}; see the MCP specification of ${method}.`;
}

/**
 * The MCP schema of each request a server answers. A request whose params break it is answered `-32602 Invalid
 * params` with one sentence before it reaches the SDK, which would answer `-32603` with a raw zod dump.
 */
interface RequestSchema {
  safeParse(value: unknown): { success: boolean; error?: { issues: readonly z.core.$ZodIssue[] } };
}

const REQUEST_SCHEMAS = new Map<string, RequestSchema>(
  [
    InitializeRequestSchema,
    ListToolsRequestSchema,
    CallToolRequestSchema,
    ListResourcesRequestSchema,
    ListResourceTemplatesRequestSchema,
    ReadResourceRequestSchema,
    ListPromptsRequestSchema,
    GetPromptRequestSchema,
    CompleteRequestSchema,
  ].map((schema): [string, RequestSchema] => [schema.shape.method.value, schema]),
);

export function screenRequest(request: JSONRPCRequest): string | undefined {
  const parsed = REQUEST_SCHEMAS.get(request.method)?.safeParse(request);
  return parsed?.error && !parsed.success
    ? describeRequestIssues(request.method, parsed.error, request)
    : undefined;
}
