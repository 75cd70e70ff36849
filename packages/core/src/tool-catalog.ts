import { readFileSync } from 'node:fs';
import type { Tool } from '@modelcontextprotocol/server';
import type { ToolDefinition } from './tool.js';
import { describeTool } from './tool-schema.js';
import { TOOLS_LIST_FILE } from './opening.js';

// The build writes the catalog (opening.ts): converting zod to JSON Schema at start-up was a twentieth of a start
// (see bench/startup.mjs), and the entries never change between builds.
export { TOOLS_LIST_FILE };

type Catalog = Record<string, Tool>;

let loaded: Catalog | undefined;

/** The catalog next to the running bundle, or an empty one when there is none (core's own tests, unbundled runs). */
function bundledCatalog(): Catalog {
  if (loaded) return loaded;
  try {
    loaded = JSON.parse(readFileSync(new URL(`./${TOOLS_LIST_FILE}`, import.meta.url), 'utf8')) as Catalog;
  } catch {
    loaded = {};
  }
  return loaded;
}

/**
 * The `tools/list` entries of these tools: the build's entry where it still describes the tool (same title,
 * description, annotations and argument names, so a catalog from another build is never served for a changed
 * tool), else computed from zod as {@link describeTool} does.
 */
export function listedTools(tools: readonly ToolDefinition[], catalog: Catalog = bundledCatalog()): Tool[] {
  return tools.map((tool) => {
    const entry = Object.hasOwn(catalog, tool.name) ? catalog[tool.name] : undefined;
    return entry && describes(entry, tool) ? entry : describeTool(tool);
  });
}

function describes(entry: Tool, tool: ToolDefinition): boolean {
  return (
    entry.name === tool.name &&
    entry.title === tool.title &&
    entry.description === tool.description &&
    JSON.stringify(entry.annotations) === JSON.stringify(tool.annotations) &&
    sameKeys(entry.inputSchema, tool.inputSchema.shape) &&
    (tool.outputSchema
      ? entry.outputSchema !== undefined && sameKeys(entry.outputSchema, tool.outputSchema.shape)
      : entry.outputSchema === undefined)
  );
}

function sameKeys(schema: { [key: string]: unknown }, shape: Record<string, unknown>): boolean {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  return JSON.stringify(Object.keys(properties)) === JSON.stringify(Object.keys(shape));
}
