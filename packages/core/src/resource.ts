import type { z } from 'zod';
import type { Logger } from './log.js';
import type { Caller } from './tool.js';

export interface ResourceContext {
  signal: AbortSignal;
  log: Logger;
  /** Who asks (see `ToolContext.principal`). */
  principal: string;
  /** Over HTTP with per-user sign-in: the signed-in user, as for a tool (`ToolContext.caller`). */
  caller?: Caller;
}

export interface ResourceListing {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
}

export interface ResourceContent {
  text: string;
  mimeType?: string;
}

/** A resource or resource template (`powerbi://workspaces/{workspace_id}/...`), declared as data. */
export interface ResourceDefinition {
  name: string;
  title?: string;
  description: string;
  /** An RFC 6570 template; a plain URI for a single fixed resource. */
  uriTemplate: string;
  mimeType?: string;
  /** Enumerate concrete resources for `resources/list` (keep it bounded). */
  list?: (ctx: ResourceContext) => Promise<ResourceListing[]>;
  /** Complete one template variable for `completion/complete`. */
  complete?: Record<string, (value: string, ctx: ResourceContext) => Promise<string[]>>;
  read: (params: Record<string, string>, ctx: ResourceContext) => Promise<ResourceContent>;
}

export function defineResource(def: ResourceDefinition): ResourceDefinition {
  return def;
}

export interface PromptMessage {
  role: 'user' | 'assistant';
  text: string;
}

type PromptArgShape = Record<string, z.ZodType<string | undefined>>;

export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  /** String arguments, each with a description; optional ones use `.optional()`. */
  args: PromptArgShape;
  build: (args: Record<string, string | undefined>) => string | PromptMessage[];
}

export function definePrompt<A extends PromptArgShape>(def: {
  name: string;
  title: string;
  description: string;
  args: A;
  build: (args: { [K in keyof A]: z.output<A[K]> }) => string | PromptMessage[];
}): PromptDefinition {
  return def as unknown as PromptDefinition;
}
