// The prompts of `gsm generate`: the paper's "generate 10 different math problems similar to this" with step-by-step
// Python ending in `result = ...`, and the two GSM-IC calls (a question with irrelevant context, then its program).
import { END_OF_PROGRAM, END_OF_QUESTION } from './parse.ts';

/** Problems asked for per "similar" call (the paper's 10). */
export const PROBLEMS_PER_CALL = 10;

/** The "generate N similar problems" prompt for one GSM8K seed question. */
export function similarProblemsPrompt(seedQuestion: string, n = PROBLEMS_PER_CALL): string {
  return [
    `Consider the following grade-school math problem: ${seedQuestion.trim()}`,
    '',
    `Generate ${n} different math problems similar to this math problem.`,
    '- Make sure each question uses diverse language and includes multiple logical steps.',
    '- After each generated problem, write down a **detailed and complete Python program** to solve the question **step by step** (do NOT give the result directly, **DO NOT write calculations in the comments**).',
    "- The program should contain multiple lines of code and end with 'result = XXX' (Make sure to replace XXX with the actual result of the python program).",
    "- Make sure your Python program is complete and solves the problem. Do **NOT** write things like 'solution to be completed', result = ?, insert your code here etc.",
    '- Give the complete solution to each question.',
    `- Please format your response exactly as follows, for each i from 1 to ${n}:`,
    `Problem i: <question text> ${END_OF_QUESTION}`,
    `Program i: <python code> ${END_OF_PROGRAM}`,
  ].join('\n');
}

/** GSM-IC call 1: the seed question rewritten with an irrelevant but plausible piece of context. */
export function irrelevantContextPrompt(seedQuestion: string, variant: number): string {
  return [
    `Consider the following grade-school math problem: ${seedQuestion.trim()}`,
    '',
    'Write a new math problem similar to this one, and add to it one sentence of irrelevant context: a plausible',
    'detail, possibly with a number, that is NOT needed to solve the problem and does not change its answer.',
    `Make it variation number ${variant + 1}: vary the names, objects and numbers.`,
    `Write only the new problem, then ${END_OF_QUESTION}`,
  ].join('\n');
}

/** GSM-IC call 2: the step-by-step program for a question (which contains irrelevant context). */
export function programPrompt(question: string): string {
  return [
    `Math problem: ${question.trim()}`,
    '',
    'Write a **detailed and complete Python program** that solves this problem **step by step**. Ignore any',
    'information in the problem that is not needed. Do NOT give the result directly and do NOT write calculations',
    "in the comments. The program should contain multiple lines of code and end with 'result = XXX' where XXX is",
    `the Python expression computing the answer. Write only the code, then ${END_OF_PROGRAM}`,
  ].join('\n');
}
