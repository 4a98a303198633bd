// Dashboard API: every endpoint on a real runs directory (trained fixtures, reports, broken runs), path traversal
// attempts, bad parameters, read-only methods, Host checks, live metrics over SSE and streamed generation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWeb } from '../../scripts/build-web.mjs';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { inspectNeurons, saveInspectReport } from '../../src/inspect/index.ts';
import { startServer } from '../../src/server/http.ts';
import { makeFixtureRuns } from '../inspect/fixture-run.ts';
import { writeReportFixtures } from './fixture-reports.ts';
import { raw, readSse } from './http-client.ts';

const fx = await makeFixtureRuns({ llama: true });
const root = fx.root;
const reports = writeReportFixtures(root);
// broken runs: unparseable JSON files, a torn metrics line, weights that are not safetensors, a link leading out
mkdirSync(join(root, 'broken'));
writeFileSync(join(root, 'broken', 'train_config.json'), '{ not json');
writeFileSync(join(root, 'broken', 'config.json'), '{"model_type": "bert"}');
writeFileSync(join(root, 'broken', 'metrics.jsonl'), '{"step":1,"loss":3.5,"tokens":10,"wall_s":1,"tokens_per_s":10,"lr":0.001}\n{"step":2,"lo');
mkdirSync(join(root, 'group', 'badweights'), { recursive: true });
copyFileSync(join(fx.neo, 'config.json'), join(root, 'group', 'badweights', 'config.json'));
copyFileSync(join(fx.neo, 'tokenizer.json'), join(root, 'group', 'badweights', 'tokenizer.json'));
writeFileSync(join(root, 'group', 'badweights', 'model.safetensors'), 'garbage');
const outside = mkdtempSync(join(tmpdir(), 'ts-outside-'));
copyFileSync(join(fx.neo, 'config.json'), join(outside, 'config.json'));
writeFileSync(join(outside, 'metrics.jsonl'), '');
symlinkSync(outside, join(root, 'escape'));
// inspect reports the dashboard reads
await saveInspectReport(fx.neo, 'neurons', await inspectNeurons(createRefBackend(), { run: fx.neo, data: fx.stories, topK: 5, maxTokens: 4000 }));

const web = mkdtempSync(join(tmpdir(), 'ts-web-'));
await buildWeb({ outdir: web, quiet: true });
const server = await startServer({ runs: root, port: 0, webDir: web, pollMs: 100 });
const port = server.port;
after(async () => {
  await server.close();
  fx.cleanup();
  rmSync(outside, { recursive: true, force: true });
  rmSync(web, { recursive: true, force: true });
});
const get = (path: string, opts?: { method?: string; host?: string }) => raw(port, path, opts);

test('runs: list, detail, metrics (columns, downsampling, bad max), samples', async () => {
  const list = await get('/api/runs');
  assert.equal(list.status, 200);
  const ids = list.json.runs.map((r: { id: string }) => r.id);
  assert.deepEqual(ids, ['broken', 'group/badweights', 'llama', 'neo']);
  const neo = list.json.runs.find((r: { id: string }) => r.id === 'neo');
  assert.equal(neo.arch, 'gpt-neo');
  assert.equal(neo.step, 12);
  assert.equal(neo.totalSteps, 12);
  assert.ok(neo.params > 30000 && neo.bestValLoss > 0 && neo.tokensPerSecond > 0);
  assert.deepEqual(neo.checkpoints, ['step-00000006', 'step-00000012']);
  assert.deepEqual(neo.inspect, { attention: false, neurons: true });
  const broken = list.json.runs.find((r: { id: string }) => r.id === 'broken');
  assert.match(broken.error, /config\.json/);
  const detail = await get('/api/run?id=broken');
  assert.equal(detail.status, 200);
  assert.match(detail.json.trainConfig.error, /train_config\.json/);

  const m = await get('/api/metrics?id=neo&max=10');
  assert.equal(m.status, 200);
  assert.equal(m.json.rows, 12);
  assert.equal(m.json.step.length, 10);
  assert.equal(m.json.step.at(-1), 12);
  assert.deepEqual(m.json.val_step, [4, 8, 12]);
  const full = await get('/api/metrics?id=neo');
  assert.deepEqual(full.json.step, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // downsampling averages buckets of consecutive rows: 12 rows into 10 buckets, two of them hold two rows
  const ten = (await get('/api/metrics?id=neo&max=10')).json;
  assert.deepEqual(ten.step, [1, 2, 3, 4, 6, 7, 8, 9, 10, 12]);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(Math.abs(ten.loss[4] - mean(full.json.loss.slice(4, 6))) < 1e-12, 'the bucket ending at step 6 is the mean of steps 5 and 6');
  assert.ok(Math.abs(ten.loss[9] - mean(full.json.loss.slice(10, 12))) < 1e-12);
  assert.equal(ten.tokens[4], full.json.tokens[5]);
  assert.equal(ten.loss[0], full.json.loss[0]);
  const torn = await get('/api/metrics?id=broken');
  assert.deepEqual(torn.json.step, [1]);
  for (const bad of ['max=5', 'max=abc', 'max=1e12']) {
    const r = await get(`/api/metrics?id=neo&${bad}`);
    assert.equal(r.status, 400, bad);
    assert.match(r.json.error, /'max'/);
  }
  assert.equal((await get('/api/metrics')).status, 400);
  const all = await get('/api/metrics-all?max=20');
  assert.deepEqual(Object.keys(all.json.runs).sort(), ['broken', 'group/badweights', 'llama', 'neo']);
  assert.equal(all.json.runs.llama.rows, 12);
  const samples = await get('/api/samples?id=neo');
  assert.deepEqual(samples.json.checkpoints.map((c: { step: number }) => c.step), [6, 12]);
  assert.equal(samples.json.checkpoints[0].samples[0].prompt, 'Once upon a time');
});

test('path traversal and bad ids: 400/404 with a clear error, nothing read outside the runs directory', async () => {
  const cases: Array<[string, number]> = [
    ['/api/run?id=..', 400],
    ['/api/run?id=../', 400],
    ['/api/run?id=' + encodeURIComponent('../../etc'), 400],
    ['/api/run?id=' + encodeURIComponent('/etc'), 400],
    ['/api/run?id=' + encodeURIComponent('neo/../../x'), 400],
    ['/api/run?id=' + encodeURIComponent('neo/./x'), 400],
    ['/api/run?id=' + encodeURIComponent('neo\\..\\..'), 400],
    ['/api/run?id=' + encodeURIComponent('neo\0'), 400],
    ['/api/run?id=escape', 400],
    ['/api/metrics?id=escape', 400],
    ['/api/samples?id=' + encodeURIComponent('../' + fx.neo), 400],
    ['/api/run?id=nope', 404],
    ['/api/run?id=evals', 404],
    ['/api/run?id=neo%2Fcheckpoints', 404],
    ['/api/game?id=neo&checkpoint=' + encodeURIComponent('../../llama'), 404],
    ['/api/generate?id=neo&checkpoint=' + encodeURIComponent('../best'), 404],
    ['/api/data/stats?id=' + encodeURIComponent('../'), 400],
  ];
  for (const [path, status] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, `${path}: ${r.body}`);
    assert.equal(typeof r.json.error, 'string', path);
    assert.ok(!/root:|\[extensions\]/.test(r.body), path);
  }
  // static files: encoded dot-dot segments do not leave the web directory
  for (const path of ['/../package.json', '/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/%00']) {
    const r = await get(path);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "tinystories"/);
  }
  assert.equal((await get('/api/health')).status, 200, 'the server still answers');
});

test('read-only methods, Host check, unknown endpoints, static front end', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await get('/api/runs', { method });
    assert.equal(r.status, 405);
    assert.match(r.json.error, /read-only/);
  }
  const evil = await get('/api/runs', { host: 'evil.example:80' });
  assert.equal(evil.status, 403);
  assert.equal((await get('/api/runs', { host: `localhost:${port}` })).status, 200);
  assert.equal((await get('/api/nothing')).status, 404);
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(String(index.headers['content-type']), /text\/html/);
  assert.match(index.body, /<script type="module" src="app.js">/);
  assert.doesNotMatch(index.body, /https?:\/\//, 'no CDN');
  const js = await get('/app.js');
  assert.equal(js.status, 200);
  assert.match(String(js.headers['content-type']), /javascript/);
  assert.ok(js.body.length > 10_000);
  assert.equal((await get('/app.css')).status, 200);
});

test('playground: streamed tokens with probability, rank and sorted alternatives; bad parameters and bad weights', async () => {
  const { status, events } = await readSse(port, '/api/generate?id=llama&prompt=Once%20upon&maxTokens=6&temperature=1&topK=20&topP=0.9&seed=3', (e) => e.event === 'done');
  assert.equal(status, 200);
  const tokens = events.filter((e) => e.event === 'token').map((e) => e.data);
  const done = events.at(-1)!.data;
  assert.equal(tokens.length, done.tokens);
  assert.ok(done.stop === 'length' ? tokens.length === 6 : done.stop === 'eot');
  for (const t of tokens) {
    assert.ok(t.prob > 0 && t.prob <= 1);
    assert.ok(Number.isInteger(t.rank) && t.rank >= 0);
    assert.equal(t.alts.length, 5);
    for (let i = 1; i < 5; i++) assert.ok(t.alts[i - 1].prob >= t.alts[i].prob);
    if (t.rank < 5) assert.ok(Math.abs(t.alts[t.rank].prob - t.prob) < 1e-9);
  }
  const again = await readSse(port, '/api/generate?id=llama&prompt=Once%20upon&maxTokens=6&temperature=1&topK=20&topP=0.9&seed=3&checkpoint=latest', (e) => e.event === 'done');
  assert.deepEqual(again.events.filter((e) => e.event === 'token').map((e) => e.data.id), tokens.map((t) => t.id), 'seeded');
  const best = await readSse(port, '/api/generate?id=neo&checkpoint=best&maxTokens=2&temperature=0', (e) => e.event === 'done');
  assert.equal(best.status, 200);
  const ck = await readSse(port, '/api/generate?id=neo&checkpoint=step-00000006&maxTokens=2&temperature=0', (e) => e.event === 'done');
  assert.equal(ck.status, 200);
  for (const [q, status, msg] of [
    ['id=neo&temperature=-1', 400, /temperature/],
    ['id=neo&topP=0', 400, /topP/],
    ['id=neo&maxTokens=99999', 400, /maxTokens/],
    ['id=broken', 404, /model\.safetensors/],
    ['id=group%2Fbadweights', 422, /cannot load the model/],
  ] as Array<[string, number, RegExp]>) {
    const r = await readSse(port, '/api/generate?' + q, () => false);
    assert.equal(r.status, status, q);
    assert.match(r.events[0]!.data.error, msg);
  }
});

test('guessing game: held-out story from the validation split, one rank per word', async () => {
  const r = await get('/api/game?id=neo&index=1');
  assert.equal(r.status, 200);
  assert.equal(r.json.source, 'validation split');
  assert.equal(r.json.index, 1);
  assert.ok(r.json.count >= 2);
  assert.equal(r.json.ranks.length, r.json.words.length);
  assert.equal(r.json.guesses.length, r.json.words.length);
  // stories longer than the 64-token context are ranked through overlapping windows: every word gets a rank
  for (const rank of r.json.ranks) assert.ok(Number.isInteger(rank) && rank >= 1 && rank <= 300, String(rank));
  const wrap = await get(`/api/game?id=neo&index=${r.json.count + 1}`);
  assert.equal(wrap.json.index, 1);
  assert.equal((await get('/api/game?id=neo&index=-1')).status, 400);
});

test('attention for a typed text, saved attention report, neuron search', async () => {
  const r = await get('/api/attention?id=neo&text=' + encodeURIComponent('Lily saw Tom. Lily smiled.'));
  assert.equal(r.status, 200);
  assert.equal(r.json.maps.nLayers, 2);
  assert.equal(r.json.maps.probs[1][3].length, r.json.maps.tokens.length);
  assert.equal(r.json.heads.length, 8);
  const cut = await get('/api/attention?id=neo&maxTokens=8&text=' + encodeURIComponent('Lily saw Tom. Lily smiled at Tom and they played.'));
  assert.equal(cut.json.maps.tokens.length, 8);
  assert.ok(cut.json.totalTokens > 8);
  assert.equal(r.json.totalTokens, r.json.maps.tokens.length);
  assert.equal((await get('/api/attention?id=neo&text=%20')).status, 400);
  assert.equal((await get('/api/attention?id=neo&text=a&maxTokens=999')).status, 400);
  assert.equal((await get('/api/attention?id=neo')).status, 400);
  const missing = await get('/api/inspect/attention?id=neo');
  assert.equal(missing.status, 404);
  assert.match(missing.json.hint, /tinystories inspect attention/);
  const n = await get('/api/neurons?id=neo&limit=3');
  assert.equal(n.status, 200);
  assert.equal(n.json.neurons.length, 3);
  assert.equal(n.json.total, 2 * 128);
  assert.ok(n.json.neurons[0].consistency >= n.json.neurons[2].consistency);
  const word = n.json.neurons[0].commonWords[0].word;
  const hit = await get('/api/neurons?id=neo&q=' + encodeURIComponent(word));
  assert.ok(hit.json.total >= 1 && hit.json.total <= 256);
  for (const x of hit.json.neurons) assert.ok(x.commonWords.some((w: { word: string }) => w.word.toLowerCase().includes(word.toLowerCase())) || x.top.some((t: { word: string }) => t.word.toLowerCase().includes(word.toLowerCase())));
  const layer1 = await get('/api/neurons?id=neo&layer=1&limit=500');
  assert.ok(layer1.json.neurons.every((x: { layer: number }) => x.layer === 1));
  assert.equal(layer1.json.total, 128);
  const quote = await get('/api/neurons?id=neo&sort=quote&limit=500');
  for (let i = 1; i < quote.json.neurons.length; i++) assert.ok(quote.json.neurons[i - 1].quoteStartShare >= quote.json.neurons[i].quoteStartShare);
  assert.equal((await get('/api/neurons?id=neo&sort=random')).status, 400);
  const names = await get('/api/neurons?id=neo&class=name');
  assert.ok(names.json.neurons.every((x: { wordClass: string }) => x.wordClass === 'name'));
  assert.equal((await get('/api/neurons?id=llama')).status, 404);
  assert.equal((await get('/api/neurons?id=neo&limit=0')).status, 400);
});

test('evaluations and data: reports found under the root; dataset statistics of generated stories', async () => {
  const ev = await get('/api/evals');
  assert.equal(ev.status, 200);
  assert.deepEqual(ev.json.reports.map((r: { id: string; kind: string }) => `${r.kind}:${r.id}`).sort(), [`gpt-eval:${reports.gpt}`, `metrics:${reports.metrics}`]);
  const data = await get("/api/data");
  assert.deepEqual(data.json.generations.map((g: { id: string }) => g.id), [reports.generation]);
  assert.equal(data.json.generations[0].report.accepted, 18);
  assert.deepEqual(data.json.datasets.map((d: { run: string }) => d.run).sort(), ['llama', 'neo']);
  assert.ok(data.json.datasets[0].splits.val.docs > 0);
  const stats = await get('/api/data/stats?id=' + encodeURIComponent(reports.generation));
  assert.equal(stats.status, 200);
  assert.equal(stats.json.stats.stories, 2, 'the exact duplicate is removed');
  assert.equal((await get('/api/data/stats?id=neo')).status, 404);
});

test('live: a metrics line appended to a run arrives as an SSE event; a new run is announced', async () => {
  const line = { step: 13, loss: 4.5, lr: 0.001, grad_norm: 1, tokens_per_s: 1000, wall_s: 9, tokens: 1664, val_loss: 4.4 };
  let appended = false;
  const { events } = await readSse(port, '/api/live', (e, all) => {
    if (e.event === 'hello' && !appended) {
      appended = true;
      // let the poller take its first look before appending
      setTimeout(() => {
        appendFileSync(join(fx.llama, 'metrics.jsonl'), JSON.stringify(line) + '\n');
        mkdirSync(join(root, 'newrun'));
        writeFileSync(join(root, 'newrun', 'metrics.jsonl'), '');
      }, 300);
    }
    return all.some((x) => x.event === 'metrics' && x.data.id === 'llama') && all.some((x) => x.event === 'runs' && x.data.runs.includes('newrun'));
  }, 15_000);
  const hello = events[0]!;
  assert.equal(hello.event, 'hello');
  const m = events.find((e) => e.event === 'metrics' && e.data.id === 'llama')!.data;
  assert.equal(m.from, 12);
  assert.deepEqual(m.step, [13]);
  assert.deepEqual(m.val_step, [13]);
  assert.deepEqual(m.val_loss, [4.4]);
  assert.equal(m.summary.step, 13);
  assert.equal(m.summary.live, true);
  assert.ok((await get('/api/runs')).json.runs.some((r: { id: string }) => r.id === 'newrun'));
});

test('a fresh clone: the front end is built on the first page request when its directory is missing', async () => {
  const freshRoot = mkdtempSync(join(tmpdir(), 'ts-fresh-'));
  const fresh = join(freshRoot, 'web');
  const s = await startServer({ runs: root, port: 0, webDir: fresh });
  try {
    const r = await raw(s.port, '/');
    assert.equal(r.status, 200);
    assert.match(r.body, /<main id="app">/);
    assert.equal((await raw(s.port, '/app.js')).status, 200);
  } finally {
    await s.close();
  }
  const off = await startServer({ runs: root, port: 0, webDir: join(fresh, 'nothing'), autoBuild: false });
  try {
    const r = await raw(off.port, '/');
    assert.equal(r.status, 500);
    assert.match(r.json.error, /build-web/);
  } finally {
    await off.close();
    rmSync(freshRoot, { recursive: true, force: true });
  }
});

test('startup errors are one clear line: a missing runs directory, a port in use', async () => {
  await assert.rejects(startServer({ runs: join(root, 'no-such-dir'), port: 0 }), /--runs .*no such directory/);
  await assert.rejects(startServer({ runs: root, port }), /port \d+ on 127\.0\.0\.1 is in use/);
  await assert.rejects(startServer({ runs: fx.neo, port: 0 }), /is a run directory itself; point --runs at the directory that holds your runs/);
});

test('startup errors name the flag: --runs pointing at a file, a --host that cannot be bound', async () => {
  await assert.rejects(startServer({ runs: join(fx.neo, 'config.json'), port: 0 }), /^UserError: --runs .*config\.json: not a directory/);
  await assert.rejects(startServer({ runs: root, port: 0, host: '999.1.1.1' }), /^UserError: --host 999\.1\.1\.1: cannot listen there/);
});

test('a missing checkpoint names the endpoint that lists the checkpoints', async () => {
  const r = await get('/api/attention?id=neo&text=hi&checkpoint=step-9');
  assert.equal(r.status, 404);
  assert.match(r.json.error, /run neo has no checkpoint "step-9" \(see \/api\/run\?id=neo\)/);
  assert.equal((await get('/api/run?id=neo')).status, 200, 'the endpoint the message names exists');
});

test('concurrent playground streams on one model do not share a KV cache', async () => {
  const q = (seed: number) => `/api/generate?id=neo&prompt=Lily&maxTokens=10&temperature=1&seed=${seed}`;
  const ids = (r: { events: Array<{ event: string; data: { id: number } }> }) => r.events.filter((e) => e.event === 'token').map((e) => e.data.id);
  const alone = [ids(await readSse(port, q(1), (e) => e.event === 'done')), ids(await readSse(port, q(2), (e) => e.event === 'done'))];
  const together = await Promise.all([readSse(port, q(1), (e) => e.event === 'done'), readSse(port, q(2), (e) => e.event === 'done')]);
  assert.deepEqual(together.map(ids), alone);
});

test('CLI: ui refuses a bad port or backend with one line', async () => {
  const { spawnSync } = await import('node:child_process');
  const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
  const r = spawnSync(process.execPath, [CLI, 'ui', '--runs', root, '--port', '70000'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^tinystories: --port: expected an integer in \[0, 65535\], got "70000"\n$/);
});

test('CLI: ui refuses a blank --port (was read as 0, any free port) with one line', async () => {
  const { spawnSync } = await import('node:child_process');
  const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
  const r = spawnSync(process.execPath, [CLI, 'ui', '--runs', root, '--port', ''], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 1, r.stdout);
  assert.equal(r.stderr, 'tinystories: --port: expected an integer in [0, 65535], got ""\n');
});

test('live while a run trains: `tinystories train` in another process, its steps arrive over /api/live', async () => {
  const { spawn } = await import('node:child_process');
  const { TINY_NEO } = await import('../train/fixture-stories.ts');
  const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
  const cfgDir = mkdtempSync(join(tmpdir(), 'ts-live-'));
  const cfg = join(cfgDir, 'tiny.json');
  writeFileSync(cfg, JSON.stringify(TINY_NEO));
  const child = spawn(process.execPath, [
    CLI, 'train', '--model-config', cfg, '--data', fx.stories, '--tokenizer', join(fx.neo, 'tokenizer.json'), '--out', join(root, 'training-now'),
    '--steps', '80', '--batch-size=4', '--seq-len=32', '--backend=ref', '--val-every=20', '--val-batches=1', '--sample-every=0', '--checkpoint-every=40', '--quiet',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((ok) => child.on('exit', ok));
  try {
    const { events } = await readSse(port, '/api/live', (_e, all) => all.filter((x) => x.event === 'metrics' && x.data.id === 'training-now').length >= 3, 60_000);
    const live = events.filter((e) => e.event === 'metrics' && e.data.id === 'training-now').map((e) => e.data);
    for (let i = 1; i < live.length; i++) {
      assert.equal(live[i].from, live[i - 1].from + live[i - 1].step.length, 'consecutive row ranges');
      assert.ok(live[i].step[0] > live[i - 1].step.at(-1));
    }
    assert.ok(live.at(-1).summary.live);
    assert.ok(events.some((e) => e.event === 'runs' && e.data.runs.includes('training-now')));
  } finally {
    assert.equal(await exited, 0, stderr);
    rmSync(cfgDir, { recursive: true, force: true });
  }
  const m = await get('/api/metrics?id=training-now');
  assert.equal(m.json.step.at(-1), 80);
});

test('CLI: `tinystories ui --runs <dir> --port 0` prints its URL, serves, and stops on SIGINT', async () => {
  const { spawn } = await import('node:child_process');
  const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
  const child = spawn(process.execPath, [CLI, 'ui', '--runs', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((ok) => child.on('exit', ok));
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`no URL printed: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(t);
        ok(m[1]!);
      }
    });
  });
  const health = await raw(Number(new URL(url).port), '/api/health');
  assert.equal(health.status, 200);
  assert.equal(health.json.root, root);
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});
