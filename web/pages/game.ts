// Guess the next word: a held-out story revealed word by word; the person's guesses vs the model's rank for the word.
import { api, fmt, h, runSelect, table } from '../util.ts';

interface Story { source: string; index: number; count: number; words: string[]; ranks: Array<number | null>; guesses: string[][] }
interface Score { words: number; personGuesses: number; modelRanks: number; modelWords: number; gaveUp: number }

const START = 4;
const MAX_TRIES = 10;
const KEY = 'ts.game.score';

/** A word as compared: lowercase, punctuation stripped. */
export function norm(w: string): string {
  return w.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

function loadScore(): Score {
  try {
    return { words: 0, personGuesses: 0, modelRanks: 0, modelWords: 0, gaveUp: 0, ...JSON.parse(sessionStorage.getItem(KEY) ?? '{}') };
  } catch {
    return { words: 0, personGuesses: 0, modelRanks: 0, modelWords: 0, gaveUp: 0 };
  }
}

export async function gamePage(root: HTMLElement): Promise<void> {
  root.append(
    h('h2', {}, 'Guess the next word'),
    h('p', { class: 'muted' }, `The seed paper's experiment as a game: guess each next word of a held-out story. You get up to ${MAX_TRIES} tries per word; the model's "guesses" are the rank of the word's first token among its predictions. On hard text GPT-2 needed about 21 guesses per word and GPT-3.5 about 4.5.`),
  );
  const storyEl = h('div', { class: 'story', 'data-role': 'story' });
  const guess = h('input', { type: 'text', 'data-role': 'guess', autocomplete: 'off', placeholder: 'next word…' }) as HTMLInputElement;
  const submit = h('button', { 'data-role': 'submit-guess' }, 'Guess');
  const giveUp = h('button', { 'data-role': 'give-up' }, 'Show word');
  const next = h('button', { 'data-role': 'next-story' }, 'Next story');
  const feedback = h('p', { 'data-role': 'feedback' });
  const scoreEl = h('div', { 'data-role': 'score' });
  let story: Story | null = null;
  let pos = START;
  let tries = 0;
  let score = loadScore();
  let storyIndex = Number(sessionStorage.getItem('ts.game.index') ?? '0');
  const sel = await runSelect(() => void load(storyIndex));
  root.append(h('div', { class: 'controls' }, h('label', {}, 'model ', sel), next), storyEl, h('div', { class: 'controls' }, guess, submit, giveUp), feedback, scoreEl);

  const drawScore = () => {
    sessionStorage.setItem(KEY, JSON.stringify(score));
    const you = score.words ? score.personGuesses / score.words : null;
    const model = score.modelWords ? score.modelRanks / score.modelWords : null;
    scoreEl.textContent = '';
    scoreEl.append(
      h('h3', {}, 'Session score (mean guesses per word; lower is better)'),
      table(['who', 'guesses / word', 'words'], [
        ['you', fmt(you, 2), String(score.words) + (score.gaveUp ? ` (${score.gaveUp} shown after ${MAX_TRIES} tries or given up)` : '')],
        [`this model (${sel.value})`, fmt(model, 2), String(score.modelWords)],
        ['GPT-2 (paper, hard text)', '~21', ''],
        ['GPT-3.5 (paper)', '~4.5', ''],
      ], [1]),
      h('button', { 'data-role': 'reset-score', onclick: '' }, 'Reset score'),
    );
    scoreEl.querySelector('button')!.addEventListener('click', () => {
      score = { words: 0, personGuesses: 0, modelRanks: 0, modelWords: 0, gaveUp: 0 };
      drawScore();
    });
  };
  const drawStory = () => {
    if (!story) return;
    storyEl.textContent = story.words.slice(0, pos).join(' ') + ' ';
    if (pos < story.words.length) storyEl.append(h('span', { class: 'next' }, '?'));
    else storyEl.append(h('em', { class: 'muted' }, ' (the end)'));
  };
  const reveal = (personCount: number, gaveUp: boolean) => {
    if (!story) return;
    const word = story.words[pos]!;
    const rank = story.ranks[pos];
    score.words++;
    score.personGuesses += personCount;
    if (gaveUp) score.gaveUp++;
    if (rank !== null && rank !== undefined) {
      score.modelRanks += rank;
      score.modelWords++;
    }
    feedback.textContent = `"${word}": you ${gaveUp ? `did not get it (counted as ${personCount})` : `needed ${personCount} ${personCount === 1 ? 'guess' : 'guesses'}`}; the model ranked it #${rank ?? '–'} (its top guesses: ${story.guesses[pos]?.join(', ') || '–'})`;
    feedback.dataset.modelRank = String(rank ?? '');
    pos++;
    tries = 0;
    drawStory();
    drawScore();
    guess.value = '';
    guess.focus();
  };
  const onGuess = () => {
    if (!story || pos >= story.words.length || !guess.value.trim()) return;
    tries++;
    if (norm(guess.value) === norm(story.words[pos]!)) reveal(tries, false);
    else if (tries >= MAX_TRIES) reveal(MAX_TRIES + 1, true);
    else {
      feedback.textContent = `not "${guess.value.trim()}" — try ${tries + 1} of ${MAX_TRIES}`;
      guess.select();
    }
  };
  submit.addEventListener('click', onGuess);
  guess.addEventListener('keydown', (e) => e.key === 'Enter' && onGuess());
  giveUp.addEventListener('click', () => story && pos < story.words.length && reveal(Math.max(MAX_TRIES + 1, tries + 1), true));
  next.addEventListener('click', () => void load(storyIndex + 1));

  let seq = 0;
  async function load(index: number) {
    const mine = ++seq; // a later load (another model, another story) wins over one still on its way
    storyEl.textContent = 'loading…';
    let next: Story;
    try {
      next = await api<Story>('/api/game', { id: sel.value, index });
    } catch (e) {
      if (mine === seq) storyEl.textContent = (e as Error).message;
      return;
    }
    if (mine !== seq) return;
    story = next;
    storyIndex = story.index;
    sessionStorage.setItem('ts.game.index', String(storyIndex));
    pos = Math.min(START, story.words.length);
    tries = 0;
    feedback.textContent = `story ${story.index + 1} of ${story.count} (${story.source})`;
    drawStory();
  }
  drawScore();
  if (sel.value) await load(storyIndex);
}
