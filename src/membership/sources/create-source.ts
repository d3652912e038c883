/**
 * Builds the configured membership source. One case per source kind; an
 * unknown kind cannot reach here (the config schema rejects it).
 */
import { type SourceConfig } from '../../config/config.js';
import { type Clock, systemClock } from '../../time/clock.js';
import { type MembershipSource } from '../source.js';
import { StaticSource } from './static-source.js';
import { FileSdSource } from './file-sd-source.js';
import { DnsSource } from './dns-source.js';
import { ConsulSource } from './consul-source.js';
import { KubernetesSource } from './kubernetes-source.js';

export function createSource(config: SourceConfig, staticTargets: readonly string[], clock: Clock = systemClock): MembershipSource {
  switch (config.kind) {
    case 'static':
      return new StaticSource(staticTargets);
    case 'file_sd':
      return new FileSdSource({ files: config.files, refreshIntervalMs: config.refreshIntervalMs }, clock);
    case 'dns':
      return new DnsSource(config, clock);
    case 'consul':
      return new ConsulSource(config);
    case 'kubernetes':
      return new KubernetesSource(config);
  }
}
