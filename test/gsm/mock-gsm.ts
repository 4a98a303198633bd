// A scripted answer function for the 127.0.0.1 mock LLM: problem/program blocks for "generate 10 problems" prompts
// (with malformed blocks mixed in), and the two GSM-IC answers. Deterministic in the prompt.
import type { MockContext, MockFault } from '../helpers/mock-llm-server.ts';

function block(i: number, a: number, b: number, style: number): string {
  const q = `Problem ${i}: Ann has ${a} apples and buys ${b} bags with 3 apples in each. How many apples does she have now?`;
  const prog = `apples = ${a}\nbags = ${b}\nper_bag = 3\nbought = bags * per_bag\nresult = apples + bought`;
  switch (style) {
    case 0:
      return `${q} <|endofquestion|>\nProgram ${i}: ${prog} <|endofprogram|>\n`;
    case 1: // markdown labels and a fenced program
      return `**Problem ${i}:** Ben reads ${a} pages a day for ${b} days and then 3 more pages. How many pages did he read? <|endofquestion|>\n**Program ${i}:**\n\`\`\`python\npages = ${a} * ${b}\nresult = pages + 3\n\`\`\`\n<|endofprogram|>\n`;
    case 2: // malformed: no question marker
      return `Problem ${i}: Cara has ${a} pens. ${prog} <|endofprogram|>\n`;
    case 3: // malformed: no result assignment
      return `Problem ${i}: Dan has ${a} coins and finds ${b} more. How many coins? <|endofquestion|>\nProgram ${i}: coins = ${a} + ${b}\nprint(coins) <|endofprogram|>\n`;
    default: // program that divides by zero (parses fine, fails at execution)
      return `Problem ${i}: Eve shares ${a} sweets among ${b} friends and herself, keeping 2 aside. How many does each get? <|endofquestion|>\nProgram ${i}:\nfriends = 0\nresult = (${a} - 2) / friends <|endofprogram|>\n`;
  }
}

/** The scripted fault function: answers generation prompts with blocks; `garbageFor` request ids get unusable text. */
export function gsmScript(garbageFor: (rid: string | undefined) => boolean = () => false) {
  return (ctx: MockContext): MockFault | undefined => {
    const p = ctx.prompt;
    const h = [...p].reduce((s, c) => (s * 31 + c.charCodeAt(0)) >>> 0, 7);
    if (garbageFor(ctx.requestId)) return { type: 'text', text: 'I am sorry, here are some thoughts about math instead.' };
    if (p.includes('Generate 10 different math problems')) {
      let text = 'Sure! Here are 10 problems.\n\n';
      for (let i = 1; i <= 10; i++) text += block(i, 2 + ((h + i) % 50), 1 + ((h >> 3) + i) % 9, i <= 6 ? i % 2 : i - 5);
      return { type: 'text', text };
    }
    if (p.includes('add to it one sentence of irrelevant context')) {
      const a = 3 + (h % 40);
      return { type: 'text', text: `Problem: Mo has ${a} marbles. His sister is 9 years old. He wins 4 more marbles. How many marbles does he have? <|endofquestion|>` };
    }
    if (p.startsWith('Math problem:')) {
      const m = /has (\d+) marbles/.exec(p);
      return { type: 'text', text: `\`\`\`python\nmarbles = ${m ? m[1] : 1}\nwon = 4\nresult = marbles + won\n\`\`\`\n<|endofprogram|>` };
    }
    return undefined;
  };
}
