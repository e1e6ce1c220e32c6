import { appCollector } from './app.js';
import { configCollector } from './config.js';
import { containerCollector } from './container.js';
import { hardwareCollector } from './hardware.js';
import { hostCollector } from './host.js';
import { libraryCollector } from './library.js';
import { networkCollector } from './network.js';
import { osCollector } from './os.js';
import { probeCollector } from './probe.js';
import { processCollector } from './process.js';
import { runtimeCollector } from './runtime.js';
import { securityCollector } from './security.js';
import { serviceCollector } from './service.js';
import type { Collector } from './types.js';

export type { Collector, CollectorContext } from './types.js';

/** Every built-in collector, in the order their facts are listed. */
export const BUILTIN_COLLECTORS: readonly Collector[] = [
  osCollector,
  hostCollector,
  hardwareCollector,
  runtimeCollector,
  libraryCollector,
  appCollector,
  configCollector,
  networkCollector,
  containerCollector,
  probeCollector,
  processCollector,
  securityCollector,
  serviceCollector,
];
