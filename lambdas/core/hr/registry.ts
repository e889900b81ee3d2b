/** The native HR adapters by route name (`/hr/<provider>`). */
import { bamboohr } from './bamboohr.js';
import { deel } from './deel.js';
import { gusto } from './gusto.js';
import { hibob } from './hibob.js';
import { okta } from './okta.js';
import { personio } from './personio.js';
import { rippling } from './rippling.js';
import type { HrAdapter, HrProvider } from './types.js';

export const HR_ADAPTERS: Readonly<Record<HrProvider, HrAdapter>> = { bamboohr, hibob, gusto, deel, personio, rippling, okta };

export const HR_ROUTE_PREFIX = '/hr/';

/** `/hr/bamboohr` → the BambooHR adapter; our own `/hr/events` and anything else → undefined. */
export function adapterForPath(path: string): HrAdapter | undefined {
  if (!path.startsWith(HR_ROUTE_PREFIX)) return undefined;
  const name = path.slice(HR_ROUTE_PREFIX.length).replace(/\/+$/, '');
  return Object.hasOwn(HR_ADAPTERS, name) ? HR_ADAPTERS[name as HrProvider] : undefined;
}
