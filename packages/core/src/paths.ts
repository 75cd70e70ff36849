import envPaths from 'env-paths';

export interface SwitchyardPaths {
  /** Encrypted secrets, the key file (when no keychain answers), per-user settings. */
  config: string;
  /** Spill files, local warehouses, downloads. */
  data: string;
  cache: string;
}

/** The user's folders for Switchyard; `SWITCHYARD_CONFIG_DIR` / `SWITCHYARD_DATA_DIR` override. */
export function switchyardPaths(env: NodeJS.ProcessEnv = process.env): SwitchyardPaths {
  const base = envPaths('switchyard', { suffix: '' });
  return {
    config: env.SWITCHYARD_CONFIG_DIR || base.config,
    data: env.SWITCHYARD_DATA_DIR || base.data,
    cache: env.SWITCHYARD_CACHE_DIR || base.cache,
  };
}
