import { Env, peerOf, SITE_IDS, type SiteId, type Tuning } from '../core/wire';

/** A handler's configuration, read once from its environment; a missing variable fails fast by name. */
export interface Settings {
  readonly cluster: string;
  readonly site: SiteId;
  readonly peer: SiteId;
  readonly region: string;
  readonly peerRegion: string;
  readonly tuning: Tuning;
  readonly heartbeatVolume: string;
  readonly observations: string;
  /** Variables only some handlers are given. */
  optional(name: (typeof Env)[keyof typeof Env]): string | undefined;
  required(name: (typeof Env)[keyof typeof Env]): string;
  /** A required variable holding JSON. */
  json<T>(name: (typeof Env)[keyof typeof Env]): T;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export function readSettings(env: Readonly<Record<string, string | undefined>> = process.env): Settings {
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '')
      throw new SettingsError(`environment variable ${name} is not set; the stack sets it when it binds this handler`);
    return value;
  };
  const site = required(Env.site);
  if (!(SITE_IDS as readonly string[]).includes(site))
    throw new SettingsError(`${Env.site} is "${site}"; expected production or standby`);
  const json = <T>(name: string): T => {
    const text = required(name);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new SettingsError(`${name} is not JSON: ${(error as Error).message}`);
    }
  };
  const tuning = json<Tuning>(Env.tuning);
  return {
    cluster: required(Env.cluster),
    site: site as SiteId,
    peer: peerOf(site as SiteId),
    region: required(Env.region),
    peerRegion: required(Env.peerRegion),
    tuning,
    heartbeatVolume: required(Env.heartbeatVolume),
    observations: required(Env.observations),
    optional: (name) => env[name] || undefined,
    required,
    json,
  };
}
