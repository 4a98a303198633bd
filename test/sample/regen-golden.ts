// Rewrites test/sample/fixtures/golden-story.json. Run only on purpose: `npx tsx test/sample/regen-golden.ts`.
import { writeFileSync } from 'node:fs';
import { GOLDEN_PATH, makeGoldenStory } from './golden.ts';

const story = await makeGoldenStory();
writeFileSync(GOLDEN_PATH, JSON.stringify(story, null, 2) + '\n');
console.log(`wrote ${GOLDEN_PATH} (version ${story.version}, final loss ${story.finalLoss.toFixed(4)}):\n${story.prompt}${story.text}`);
