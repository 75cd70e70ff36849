import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/server';
import type { ToolDefinition } from './tool.js';

/** JSON Schema for a zod object as `tools/list` shows it: compact, no `$schema`. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const json = z.toJSONSchema(schema, { io, target: 'draft-7', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  // An output schema describes what the server promises to send; the server checks it before sending, and a
  // client has no use for `additionalProperties: false` there, which costs ~30 bytes per object in tools/list.
  if (io === 'output') dropClosedObjects(json);
  return json as Tool['inputSchema'];
}

function dropClosedObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) dropClosedObjects(item);
  } else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.additionalProperties === false) delete record.additionalProperties;
    for (const value of Object.values(record)) dropClosedObjects(value);
  }
}

/** The `tools/list` entry of a tool. */
export function describeTool(tool: ToolDefinition): Tool {
  const entry: Tool = {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.inputSchema, 'input'),
    annotations: tool.annotations,
  };
  if (tool.outputSchema) entry.outputSchema = jsonSchemaOf(tool.outputSchema, 'output');
  return entry;
}
