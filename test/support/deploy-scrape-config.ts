/**
 * Scrape jobs from deploy/kubernetes/prometheus.yml, pointed at a test's
 * shardgate: the in-cluster URLs and targets become its address, intervals 1s,
 * so an end-to-end test scrapes with the configuration operators deploy.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { list, obj, str } from './json-shape.js';

const FILE = fileURLToPath(new URL('../../../deploy/kubernetes/prometheus.yml', import.meta.url));

/** The named jobs as YAML list items (JSON flow style), indented for a scrape_configs list. */
export function deployScrapeJobs(shardgateUrl: string, names: readonly string[]): string {
  const host = new URL(shardgateUrl).host;
  const jobs = list(obj(parseYaml(readFileSync(FILE, 'utf8')), 'prometheus.yml')['scrape_configs'], 'scrape_configs').map((j) => obj(j, 'job'));
  return names
    .map((name) => {
      const job = jobs.find((j) => j['job_name'] === name);
      if (job === undefined) throw new Error(`${FILE} has no job ${name}`);
      const rewritten: unknown = JSON.parse(JSON.stringify(job), (key: string, value: unknown) => {
        if (key === 'url') return `${shardgateUrl}${new URL(str(value, 'url')).pathname}`;
        if (key === 'targets') return [host];
        if (key === 'scrape_interval' || key === 'refresh_interval') return '1s';
        return value;
      });
      return `  - ${JSON.stringify(rewritten)}`;
    })
    .join('\n');
}
