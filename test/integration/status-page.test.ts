/**
 * The status page in a real browser: Debian's headless Chromium driven by
 * puppeteer-core, against shardgate in front of three real pushgateways.
 * The page shows the shards, the groups with their push times, finds a
 * key's shard, renders hostile label values as text, shows a drain started
 * from its own button progressing to drained, and a SIGKILLed pushgateway
 * going down. Screenshots are kept in test-artifacts/status-page/ (printed
 * below) for a person to look at.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startPushgateways, type TestPushgateway } from '../support/pushgateway.js';
import { startShardgate, type Shardgate } from '../support/shardgate.js';
import { waitFor } from '../support/wait-for.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/status-page/', import.meta.url));
const HOSTILE = '<img src=x onerror="window.__xss=1">';

let pgs: TestPushgateway[] = [];
let sg: Shardgate;
let browser: Browser;
let page: Page;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: scripts/setup.sh test installs Debian's chromium`);
  await mkdir(ARTIFACTS, { recursive: true });
  [pgs, browser] = await Promise.all([
    startPushgateways(3),
    // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }),
  ]);
  sg = await startShardgate({
    // Moves are slowed down so the drain stays visible for a few refreshes.
    config: `targets: [${pgs.map((p) => `"${p.target}"`).join(', ')}]\nhealth_check: { interval: 200ms, timeout: 1s, fall: 1 }\nrebalance: { max_moves_per_second: 10 }\n`,
    args: ['--web.enable-admin-api'],
    waitReady: true,
  });
  await waitFor(async () => ((await (await fetch(`${sg.url}/api/v1/sd`)).json()) as unknown[]).length === 3, { what: 'three shards in the ring' });
  for (let i = 0; i < 45; i++) {
    const res = await fetch(`${sg.url}/metrics/job/batch/instance/host-${i}`, { method: 'PUT', body: `done_total ${i}\n` });
    assert.equal(res.status, 200);
  }
  assert.equal((await fetch(`${sg.url}/metrics/job/evil/note@base64/${Buffer.from(HOSTILE).toString('base64url')}`, { method: 'PUT', body: 'up 1\n' })).status, 200);
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('dialog', (d) => void d.dismiss());
  await page.goto(`${sg.url}/?refresh=200`);
});

after(async () => {
  await browser?.close();
  await sg?.stop();
  await Promise.all(pgs.map((p) => p.stop()));
});

async function screenshot(name: string, fullPage = false): Promise<void> {
  const path = `${ARTIFACTS}${name}.png`;
  await page.screenshot({ path, fullPage });
  console.log(`screenshot: ${path}`);
}

/**
 * Clicks the button of the first `rows` element whose text contains `text`,
 * in one step inside the page: the tables are rebuilt on every refresh, so
 * an element handle kept across steps would go stale.
 */
async function clickIn(rows: string, text: string): Promise<void> {
  const clicked = await page.$$eval(rows, (els, t) => {
    const button = els.find((e) => e.textContent?.includes(t))?.querySelector('button');
    button?.click();
    return button !== undefined && button !== null;
  }, text);
  assert.ok(clicked, `a button in ${rows} containing ${text}`);
}

/** The text of a shard row's cell (state, health, groups). */
const cell = (target: string, cls: string): Promise<string | undefined> =>
  page.evaluate((t, c) => document.querySelector(`tr[data-shard="${t}"] td.${c}`)?.textContent ?? undefined, target, cls);

async function groupCounts(): Promise<Map<string, number>> {
  const body = (await (await fetch(`${sg.url}/api/v1/metrics`)).json()) as { group_counts: Record<string, number> };
  return new Map(Object.entries(body.group_counts));
}

test('the page lists the shards, their group counts, the ring and every group with its push time', async () => {
  await page.waitForFunction(() => document.querySelectorAll('#groups tbody tr').length === 46);
  const counts = await groupCounts();
  for (const pg of pgs) {
    await waitFor(async () => (await cell(pg.target, 'groups')) === String(counts.get(pg.target)), { what: `group count of ${pg.target}` });
    assert.equal(await cell(pg.target, 'health'), 'up');
    assert.equal(await cell(pg.target, 'state'), 'active');
  }
  assert.equal(await page.$eval('#ring-size', (n) => n.textContent), '3');
  assert.match((await page.$eval('#groups tbody tr td:nth-child(2)', (n) => n.textContent)) ?? '', /ago\)$/, 'a push time');
  await screenshot('1-overview', true);
});

test('hostile label values are shown as text, never run', async () => {
  const shown = await page.$$eval('#groups td.key', (cells) => cells.map((c) => c.textContent ?? ''));
  assert.ok(shown.some((s) => s.includes('note="<img src=x onerror=')), 'the label value appears as text');
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  assert.equal(await page.$$eval('#groups img', (imgs) => imgs.length), 0);
});

test("the search box finds a grouping key's shard", async () => {
  const expected = (await (await fetch(`${sg.url}/metrics/job/batch/instance/host-7`)).json()) as { shard: string };
  await page.$eval('#lookup-key', (n) => ((n as HTMLInputElement).value = ''));
  await page.type('#lookup-key', 'job=batch, instance=host-7');
  await page.click('#lookup button[type=submit]');
  await page.waitForFunction((s) => document.getElementById('lookup-shard')?.textContent === s, {}, expected.shard);
  // The hostile group, found from its row's button (its value needs the @base64 form).
  const evil = (await (await fetch(`${sg.url}/metrics/job/evil/note@base64/${Buffer.from(HOSTILE).toString('base64url')}`)).json()) as { shard: string };
  await clickIn('#groups tbody tr', 'evil');
  await page.waitForFunction((s) => document.getElementById('lookup-shard')?.textContent === s && document.getElementById('lookup-result')?.textContent?.includes('<img') === true, {}, evil.shard);
  await screenshot('2-lookup');
});

test('a drain started from the page goes draining → drained while its groups move', async () => {
  const counts = await groupCounts();
  const [victim] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? assert.fail('no shard holds groups');
  assert.ok((counts.get(victim) ?? 0) >= 10, 'the drained shard holds enough groups to watch the drain');
  await clickIn(`tr[data-shard="${victim}"]`, 'Drain');
  await page.waitForFunction((t) => document.querySelector(`tr[data-shard="${t}"] td.state`)?.textContent === 'draining', {}, victim);
  await screenshot('3-draining');
  await page.waitForFunction((t) => document.querySelector(`tr[data-shard="${t}"] td.state`)?.textContent === 'drained', { timeout: 20_000 }, victim);
  assert.equal(await cell(victim, 'groups'), '0');
  assert.equal((await groupCounts()).get(victim), 0);
  await screenshot('4-drained');
  await clickIn(`tr[data-shard="${victim}"]`, 'Undrain');
  await page.waitForFunction((t) => document.querySelector(`tr[data-shard="${t}"] td.state`)?.textContent === 'active', {}, victim);
});

test('a SIGKILLed pushgateway shows as down, with its error', async () => {
  const victim = pgs[0] ?? assert.fail('no pushgateway');
  process.kill(victim.pid, 'SIGKILL');
  await page.waitForFunction((t) => document.querySelector(`tr[data-shard="${t}"] td.health`)?.textContent === 'down', { timeout: 15_000 }, victim.target);
  assert.match((await cell(victim.target, 'error')) ?? '', /refused|reset|ECONN/);
  await screenshot('5-shard-down');
});
