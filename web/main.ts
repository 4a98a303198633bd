// The dashboard's entry: hash routes to pages; each page renders into <main> and may register cleanup on leave.
import './style.css';
import { attentionPage } from './pages/attention.ts';
import { dataPage } from './pages/data.ts';
import { evalsPage } from './pages/evals.ts';
import { gamePage } from './pages/game.ts';
import { neuronsPage } from './pages/neurons.ts';
import { playgroundPage } from './pages/playground.ts';
import { runsPage } from './pages/runs.ts';
import { samplesPage } from './pages/samples.ts';
import { trainPage } from './pages/train.ts';
import { boot, isSite } from './site/boot.ts';
import { NoRunsError, errorBox, h, hideTip } from './util.ts';

type Page = (root: HTMLElement, onLeave: (f: () => void) => void) => Promise<void>;

const PAGES: Record<string, Page> = {
  train: trainPage,
  runs: runsPage,
  samples: samplesPage,
  playground: playgroundPage,
  game: gamePage,
  evals: evalsPage,
  attention: attentionPage,
  neurons: neuronsPage,
  data: dataPage,
};

let cleanups: Array<() => void> = [];

async function route(): Promise<void> {
  for (const f of cleanups) f();
  cleanups = [];
  hideTip();
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] || (isSite() ? 'train' : 'runs');
  const page = PAGES[name] ?? runsPage;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.getAttribute('href') === `#/${name}`);
  const app = document.getElementById('app')!;
  app.textContent = '';
  app.dataset.page = name;
  app.dataset.ready = 'false';
  try {
    await page(app, (f) => cleanups.push(f));
  } catch (e) {
    app.append(e instanceof NoRunsError ? h('p', { class: 'muted', 'data-role': 'no-runs' }, e.message) : errorBox(e));
  }
  app.dataset.ready = 'true';
}

// the static site boots its engine (and may reload once for its service worker) before the first page
if (!isSite() || (await boot())) {
  window.addEventListener('hashchange', () => void route());
  void route();
}
