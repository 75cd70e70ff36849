import { NotFoundError, odataString, untrusted } from '@switchyard/core';
import type { Dataset, PowerBiClient, Workspace } from './powerbi-client.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_TTL_MS = 5 * 60_000;

export function isGuid(value: string): boolean {
  return GUID.test(value.trim());
}

export interface Named {
  id: string;
  /** The name when it is known (a GUID given as-is is not looked up). */
  name: string | undefined;
}

/** «Sales» or just the id: how a workspace or dataset is named in answers (names are outside text). */
export function label(item: Named): string {
  return item.name ? untrusted(item.name, 120) : item.id;
}

/**
 * Workspaces and datasets by id or by exact name. A GUID is used as given (no extra call); a name is
 * looked up, and an unknown or ambiguous one is answered with the candidates. Names are remembered for
 * a few minutes.
 */
export class Resolver {
  private readonly names = new Map<string, { value: Named; until: number }>();

  constructor(private readonly client: PowerBiClient) {}

  async workspace(ref: string, signal?: AbortSignal): Promise<Named> {
    const wanted = ref.trim();
    if (isGuid(wanted)) return { id: wanted.toLowerCase(), name: undefined };
    return this.remembered(`w:${wanted}`, async () => {
      const matches = await this.client.listWorkspaces(
        { filter: `contains(name,${odataString(wanted)})`, top: 100 },
        signal,
      );
      return pick(wanted, matches, 'workspace', async () =>
        (await this.client.listWorkspaces({ top: 20 }, signal)).map((w) => w.name),
      );
    });
  }

  async dataset(workspace: Named, ref: string, signal?: AbortSignal): Promise<Named> {
    const wanted = ref.trim();
    if (isGuid(wanted)) return { id: wanted.toLowerCase(), name: undefined };
    return this.remembered(`d:${workspace.id}:${wanted}`, async () => {
      const all = await this.client.listDatasets(workspace.id, signal);
      return pick(wanted, all, `dataset in workspace ${label(workspace)}`, async () =>
        all.map((d) => d.name),
      );
    });
  }

  private async remembered(key: string, find: () => Promise<Named>): Promise<Named> {
    const hit = this.names.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = await find();
    this.names.set(key, { value, until: Date.now() + NAME_TTL_MS });
    return value;
  }
}

async function pick(
  wanted: string,
  items: Array<Workspace | Dataset>,
  what: string,
  fallbackCandidates: () => Promise<string[]>,
): Promise<Named> {
  let matches = items.filter((i) => i.name === wanted);
  if (matches.length === 0) matches = items.filter((i) => i.name.toLowerCase() === wanted.toLowerCase());
  if (matches.length === 1) return { id: matches[0]!.id, name: matches[0]!.name };
  if (matches.length > 1) {
    throw new NotFoundError(`${matches.length} ${what.replace(/^(\w+)/, '$1s')} are named '${wanted}'`, {
      candidates: matches.map((m) => `${m.name} (${m.id})`),
      hint: 'Pass the id instead of the name',
    });
  }
  const near = items.filter((i) => i.name.toLowerCase().includes(wanted.toLowerCase())).map((i) => i.name);
  const candidates = near.length > 0 ? near : await fallbackCandidates();
  throw new NotFoundError(`No ${what} is named '${wanted}'`, {
    candidates,
    hint: 'Names must match exactly; pass one of the candidates or an id',
  });
}
