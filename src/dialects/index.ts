/**
 * The dialects the hub speaks, one line each: a new partner system is a folder under dialects/ and
 * a line here. The core (config loader, runtime, pipeline) reads this list and names no dialect.
 */
import { aid02 } from './aid02/forward';
import type { DialectModule } from './dialect';
import { devicemgmt } from './devicemgmt/module';
import { es2plus } from './es2plus/module';
import { telcoapi } from './telcoapi/module';

export const DIALECTS: readonly DialectModule[] = [aid02, es2plus, telcoapi, devicemgmt];
