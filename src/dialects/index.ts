/**
 * The dialects the hub speaks, one line each: a new partner system is a folder under dialects/ and
 * a line here. The core (config loader, runtime, pipeline) reads this list and names no dialect.
 */
import { aid02 } from './aid02/forward';
import type { DialectModule } from './dialect';
import { devicemgmt } from './devicemgmt/module';
import { es2plus } from './es2plus/module';
import { telcoapi } from './telcoapi/module';

// eslint-style `any`: each module has its own settings and instance types; the registry holds them all
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const DIALECTS: readonly DialectModule<any, any>[] = [aid02, es2plus, telcoapi, devicemgmt];
