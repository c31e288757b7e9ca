// End-to-end test of the errand dashboard in headless Chromium.
//
// Starts `errand worker --web` on a SQLite file (and on a throw-away
// redis-server when one is installed) with jobs in every set and jobs
// running, loads every page, clicks the operator actions (retry, kill,
// delete, enqueue now, clear, quiet) and checks their effect through the
// JSON API and `errand stats --json`. Screenshots go to $ERRAND_ARTIFACTS.
//
// Env: ERRAND_BIN (the errand binary), ERRAND_WEB_NODE_MODULES (where npm put
// playwright-core), ERRAND_ARTIFACTS (screenshot folder), CHROMIUM (default
// /usr/bin/chromium). Exit 0 when all passed, 1 on any failure, 77 when
// there is no browser to run. Last line: "N passed, N failed".
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.ERRAND_BIN || path.resolve(here, '../../build/errand');
// The example jobs (RecordRun, SlowJob): the errand binary has no job class of its own.
const EXAMPLES = process.env.ERRAND_EXAMPLES || path.resolve(here, '../../build/liberrand_examples.so');
const NODE_MODULES = process.env.ERRAND_WEB_NODE_MODULES || path.resolve(here, '../../build/web/node_modules');
const ARTIFACTS = process.env.ERRAND_ARTIFACTS || path.resolve(here, '../../build/test-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let passed = 0;
let failed = 0;
const children = [];

function log(...a) { console.log(...a); }
async function check(name, fn) {
  try {
    await fn();
    passed++;
    log(`  ok   ${name}`);
  } catch (e) {
    failed++;
    log(`  FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg || 'assertion failed'); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function run(args, env = {}) {
  return execFileSync(BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function start(cmd, args, env, logFile) {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  children.push(child);
  return child;
}

async function stop(child, timeoutMs = 30000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(t);
}

async function api(base, p) {
  const r = await fetch(base + p, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${p}: HTTP ${r.status}`);
  return r.json();
}

const EVIL = '<script>alert(1)</script>';

/// Jobs in every set before the worker starts; the worker then fails the
/// unknown-class ones into the retry and dead sets.
function seed(store, recordFile) {
  const env = { ERRAND_RECORD_FILE: recordFile };
  const enqueue = (...a) => run(['enqueue', ...a, '--store', store], env);
  enqueue('NoSuchJob', JSON.stringify([EVIL]), '--retry', '0');
  enqueue('NoSuchJob', '["dead-2"]', '--retry', '0');
  enqueue('NoSuchJob', '["dead-3"]', '--retry', '0');
  for (let i = 0; i < 4; i++) enqueue('NoSuchJob', JSON.stringify([`retry-${i}`]), '--retry', '5');
  for (let i = 0; i < 3; i++) enqueue('RecordRun', JSON.stringify([100 + i]), '--in', '3600');
  enqueue('RecordRun', JSON.stringify([EVIL.length]), '--in', '7200', '-q', 'reports');
  for (let i = 0; i < 2; i++) enqueue('SlowJob', JSON.stringify([i, 60000]));
  for (let i = 0; i < 30; i++) enqueue('RecordRun', JSON.stringify([i]));
}

async function scenario(browserContext, label, store, tmp) {
  log(`# ${label}: ${store}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const recordFile = path.join(tmp, `${label}-records.txt`);
  seed(store, recordFile);
  // Two periodic jobs: one every two seconds and a nightly one (for "enqueue
  // now"), on queues this worker does not fetch so that their jobs stay put.
  const cronFile = path.join(tmp, `${label}-cron.yml`);
  fs.writeFileSync(cronFile, [
    'cron:',
    '  heartbeat_ping:',
    '    cron: "*/2 * * * * *"',
    '    class: RecordRun',
    '    args: [4242]',
    '    queue: ticks',
    '  nightly_report:',
    '    cron: "0 3 * * *"',
    '    class: RecordRun',
    '    args: [31337]',
    '    queue: nightly',
    '    time_zone: Europe/Paris',
    ''].join('\n'));
  const worker = start(BIN, ['worker', '-r', EXAMPLES, '--store', store, '-C', cronFile, '--web', '--web-port', String(port), '-c', '4',
    '-q', 'default', '--poll-interval', '3600', '--heartbeat-interval', '1', '--process-ttl', '20'],
  { ERRAND_RECORD_FILE: recordFile }, path.join(ARTIFACTS, `${label}-worker.log`));

  const shot = async (page, name) => {
    await page.screenshot({ path: path.join(ARTIFACTS, `${label}-${name}.png`), fullPage: true });
  };
  const page = await browserContext.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('dialog', (d) => {
    if (d.type() !== 'confirm') problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
    d.accept();
  });
  const stats = () => api(base, '/api/stats');
  // Clicks a button that posts a form, and waits for the page it redirects
  // to (a fresh flash notice, not the one already on the page).
  const act = async (selector) => {
    await page.evaluate(() => document.querySelectorAll('.flash').forEach((e) => e.remove()));
    await page.click(selector);
    await page.waitForSelector('.flash-ok');
  };
  const setTotal = async (set) => (await api(base, `/api/sets/${set}?limit=1`)).total;
  const queueSize = async (name) => ((await api(base, '/api/queues')).queues.find((q) => q.name === name) || { size: 0 }).size;

  try {
    await check(`${label}: worker serves the dashboard`, async () => {
      await waitFor('the dashboard', async () => (await stats()).processes === 1);
      await waitFor('jobs in the retry and dead sets', async () => {
        const s = await stats();
        return s.retries >= 4 && s.dead >= 3 && s.busy >= 2 && s.processed >= 20;
      }, 30000);
    });

    await check(`${label}: overview with live and history charts`, async () => {
      await page.goto(base + '/');
      assert((await page.textContent('h1')) === 'Dashboard');
      await page.waitForSelector('#live-chart canvas');
      await page.waitForSelector('#history-chart canvas');
      await page.waitForSelector('#live-indicator.on');
      await sleep(7000); // a few polls, so the real-time chart has a line
      const processed = await page.textContent('.card-value[data-stat="processed"]');
      assert(Number(processed.replace(/,/g, '')) >= 20, `processed card shows ${processed}`);
      await shot(page, 'overview');
    });

    await check(`${label}: queues page — pause and resume (or disabled where unsupported)`, async () => {
      await page.goto(base + '/queues');
      await page.waitForSelector('text=default');
      await shot(page, 'queues');
      const row = page.locator('tr', { hasText: 'default' });
      const pause = row.locator('button', { hasText: 'Pause' });
      if (!(await api(base, '/api/queues')).pause_supported) {
        assert(await pause.isDisabled(), 'pause should be disabled (unsupported by the store)');
        return;
      }
      const paused = async () => (await api(base, '/api/queues')).queues.find((q) => q.name === 'default').paused;
      await act('tr:has-text("default") button:has-text("Pause")');
      assert(await paused(), 'paused');
      assert(await page.isVisible('.pill-warn:has-text("paused")'), 'shown as paused');
      await shot(page, 'queues-paused');
      await act('tr:has-text("default") button:has-text("Resume")');
      assert(!(await paused()), 'resumed');
    });

    let identity;
    await check(`${label}: busy page shows the process and running jobs`, async () => {
      await page.goto(base + '/busy');
      await page.waitForSelector('text=SlowJob');
      const procs = (await api(base, '/api/processes')).processes;
      assert(procs.length === 1, 'one process');
      identity = procs[0].identity;
      assert(await page.isVisible(`text=${identity}`), 'identity shown');
      await shot(page, 'busy');
    });

    await check(`${label}: quiet a process from the busy page`, async () => {
      await act('button:has-text("Quiet")');
      await waitFor('the process to turn quiet', async () => (await api(base, '/api/processes')).processes[0].quiet === true);
      await page.goto(base + '/busy');
      await page.waitForSelector('.pill-warn:has-text("quiet")');
    });

    await check(`${label}: retries page — retry now, kill, delete`, async () => {
      const r0 = await setTotal('retry');
      const d0 = await setTotal('dead');
      const q0 = await queueSize('default');
      await page.goto(base + '/retries');
      await shot(page, 'retries');
      const boxes = page.locator('input[name="key"]');
      assert((await boxes.count()) === r0, `rows ${await boxes.count()} vs ${r0}`);
      await boxes.nth(0).check();
      await act('.bulk button:has-text("Retry now")');
      assert((await setTotal('retry')) === r0 - 1, 'retry set shrank');
      assert((await queueSize('default')) === q0 + 1, 'the job is back in its queue');
      await page.locator('input[name="key"]').nth(0).check();
      await act('.bulk button:has-text("Kill")');
      assert((await setTotal('retry')) === r0 - 2, 'retry set shrank again');
      assert((await setTotal('dead')) === d0 + 1, 'killed job is dead');
      await page.locator('input[name="key"]').nth(0).check();
      await act('.bulk button:has-text("Delete")');
      assert((await setTotal('retry')) === r0 - 3, 'deleted');
    });

    await check(`${label}: search filters the dead set`, async () => {
      await page.goto(base + '/dead?q=dead-2');
      const rows = await page.locator('input[name="key"]').count();
      assert(rows === 1, `one match, got ${rows}`);
    });

    await check(`${label}: dead page and an escaped job detail`, async () => {
      await page.goto(base + '/dead');
      await shot(page, 'dead');
      const html = await page.content();
      assert(!html.includes(EVIL), 'raw script in the page');
      await page.goto(base + '/dead?q=alert');
      await page.click('a.cls');
      await page.waitForSelector('text=Payload');
      const text = await page.textContent('main');
      assert(text.includes(EVIL), 'the script text is shown as text');
      assert(await page.isVisible('text=errand::UnknownJobClass'), 'error class shown');
      await shot(page, 'job');
    });

    await check(`${label}: dead page — retry one, delete one (selected together)`, async () => {
      const d0 = await setTotal('dead');
      const q0 = await queueSize('default');
      await page.goto(base + '/dead');
      await page.locator('input[name="key"]').nth(0).check();
      await act('.bulk button:has-text("Retry now")');
      assert((await setTotal('dead')) === d0 - 1, 'dead set shrank');
      assert((await queueSize('default')) === q0 + 1, 'queued again');
      await page.click('input[data-select-all]');
      const selected = await page.textContent('[data-selected-count]');
      assert(selected === `${d0 - 1} selected`, selected);
      await act('.bulk button:has-text("Delete")');
      assert((await setTotal('dead')) === 0, 'all selected dead jobs deleted');
    });

    await check(`${label}: scheduled page — enqueue now and delete`, async () => {
      const s0 = await setTotal('scheduled');
      await page.goto(base + '/scheduled');
      await shot(page, 'scheduled');
      await page.locator('input[name="key"]').nth(0).check();
      await act('.bulk button:has-text("Enqueue now")');
      await page.locator('input[name="key"]').nth(0).check();
      await act('.bulk button:has-text("Delete")');
      assert((await setTotal('scheduled')) === s0 - 2, 'scheduled set shrank by two');
    });

    await check(`${label}: clear a queue`, async () => {
      assert((await queueSize('default')) > 0, 'something to clear');
      await page.goto(base + '/queues');
      await page.locator('tr', { hasText: 'default' }).locator('button:has-text("Clear")').click();
      await page.waitForURL(/done=clear/);
      assert((await queueSize('default')) === 0, 'queue empty');
    });

    await check(`${label}: cron page — entries, ticks fire, enqueue now`, async () => {
      await page.goto(base + '/cron');
      const rows = page.locator('tbody tr');
      assert((await rows.count()) === 2, 'two entries listed');
      assert(await page.isVisible('text=Europe/Paris'), 'zone shown');
      const cron = await api(base, '/api/cron');
      const nightly = cron.entries.find((e) => e.name === 'nightly_report');
      assert(nightly && nightly.next_run > Date.now() / 1000, 'next run in the future');
      const ping = cron.entries.find((e) => e.name === 'heartbeat_ping');
      assert(ping && Date.now() / 1000 - ping.last_tick < 5, `last tick is recent: ${ping && ping.last_tick}`);
      // The two-second entry fires inside the worker.
      await waitFor('the periodic job to fire', async () => (await queueSize('ticks')) >= 1, 15000);
      const before = await queueSize('nightly');
      await act('tr:has-text("nightly_report") button:has-text("Enqueue now")');
      assert(page.url().includes('/cron'), 'back on the cron page');
      assert((await queueSize('nightly')) === before + 1, 'enqueued on its queue');
      await shot(page, 'cron');
    });

    await check(`${label}: errand stats --json agrees with the API`, async () => {
      // The two-second cron entry keeps enqueueing: compare a few times until
      // both reads fall between two ticks.
      let cli;
      await waitFor('the CLI and the API to agree', async () => {
        cli = JSON.parse(run(['stats', '--json', '--store', store]));
        const s = await stats();
        for (const k of ['dead', 'retries', 'scheduled', 'enqueued', 'processes'])
          if (cli[k] !== s[k]) throw new Error(`${k}: cli ${cli[k]} vs api ${s[k]}`);
        return true;
      }, 10000);
      assert(cli.processed >= 20, 'processed');
    });

    await check(`${label}: /metrics with per-job families`, async () => {
      const text = await (await fetch(base + '/metrics')).text();
      for (const name of ['errand_processed_total', 'errand_queue_size', 'errand_jobs_processed_total{class="RecordRun",queue="default"}',
        'errand_job_duration_seconds_bucket', 'errand_job_queue_latency_seconds_count'])
        assert(text.includes(name), `missing ${name}`);
    });

    await check(`${label}: CSRF — a forged POST is refused`, async () => {
      const key = (await api(base, '/api/sets/retry?limit=1')).entries[0]?.key || '1.0-x';
      const r = await fetch(`${base}/api/sets/retry/delete`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example' },
        body: `key=${encodeURIComponent(key)}`
      });
      assert(r.status === 403, `status ${r.status}`);
    });

    await check(`${label}: no script errors or CSP violations`, async () => {
      assert(problems.length === 0, problems.join('; '));
    });
  } finally {
    await page.close();
    await stop(worker);
  }
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (!fs.existsSync(BIN)) { log(`errand binary not found at ${BIN}`); log('0 passed, 1 failed'); process.exit(1); }
  if (!fs.existsSync(CHROMIUM)) {
    log(`skipped: no browser at ${CHROMIUM} (apt-get install chromium)`);
    log('0 passed, 0 failed');
    process.exit(77);
  }
  const require = createRequire(path.join(NODE_MODULES, 'noop.js'));
  const { chromium } = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-e2e-profile-'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-e2e-'));
  // A persistent context on a fresh profile folder: playwright passes it as
  // --user-data-dir, and nothing is downloaded (executablePath is Debian's).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let redis;
  try {
    await scenario(context, 'sqlite', `sqlite://${path.join(tmp, 'errand.db')}`, tmp);
    let haveRedis = false;
    try { execFileSync('redis-server', ['--version'], { stdio: 'ignore' }); haveRedis = true; } catch { /* none */ }
    if (haveRedis) {
      const port = await freePort();
      redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {}, path.join(ARTIFACTS, 'redis.log'));
      await waitFor('redis-server', () => new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
        s.on('error', () => resolve(false));
      }));
      await scenario(context, 'redis', `redis://127.0.0.1:${port}/0`, tmp);
    } else {
      log('# redis: skipped (no redis-server)');
    }
  } catch (e) {
    failed++;
    log(`  FAIL setup: ${e.stack || e}`);
  } finally {
    await context.close().catch(() => {});
    await stop(redis);
    for (const c of children) await stop(c, 5000);
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`screenshots: ${ARTIFACTS}`);
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main();
