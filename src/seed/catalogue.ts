/**
 * The fixed block catalogue and text fragments the seeder draws from. Block ids are stable (seed data and
 * tests may rely on them); the kinds mirror AutoGPT's common blocks.
 */
import type { Rng } from './random.js';
import { inputPortsOf, outputPortsOf, type BlockPort } from '../modules/blocks/block-ports.js';
import { builtInCatalogue } from '../modules/blocks/block-sync.js';

const CATALOGUE = builtInCatalogue();

export type NodeTypeName = 'STANDARD' | 'INPUT' | 'OUTPUT' | 'WEBHOOK';
type Json = Record<string, unknown>;

export interface BlockKind {
  id: string;
  name: string;
  nodeType: NodeTypeName;
  inputs: readonly BlockPort[];
  outputs: readonly BlockPort[];
  /** Relative share of a run's wall time spent in this block. */
  weight: number;
  /** Credits charged for one successful execution. */
  cost(rng: Rng): number;
  inputDefault(rng: Rng): Json;
  /** Inputs of one execution. */
  run(rng: Rng): { inputs: Json; outputs: Json };
}

export const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet-latest', 'claude-3-haiku', 'llama-3.1-70b', 'gemini-2.0-flash'] as const;

export const SENTENCES = [
  'The quarterly report shows revenue growth of 12% year over year.',
  'Three new pull requests are waiting for review in the main repository.',
  'Customer reports that the checkout page times out on mobile.',
  'Summary: the article argues that small models are catching up quickly.',
  'The weather in Lisbon tomorrow will be sunny with a high of 24°C.',
  'Lead qualifies: company size 200-500, budget confirmed, decision in Q3.',
  'Translated the product description into French and German.',
  'No anomalies detected in the last 24 hours of server logs.',
  'Draft reply: "Thanks for reaching out — we have refunded your order."',
  'Top headline: central bank holds rates steady amid cooling inflation.',
  'Found 14 matching tweets mentioning the launch, sentiment mostly positive.',
  'The meeting notes list four action items for the design team.',
  'Extracted 8 entities: 3 people, 2 organisations, 3 locations.',
  'Video transcript is 42 minutes long; key points are listed below.',
  'Invoice #4821 is overdue by 15 days; a reminder was scheduled.',
  'The competitor lowered prices on its starter plan by 20%.',
  'Generated 5 title ideas for the blog post about vector databases.',
  'Classification: billing question (confidence 0.93).',
  'Tab\tseparated\tvalues and a back\\slash survive the round trip.',
  'Multi-line answer:\n1. Check the logs\n2. Restart the worker',
] as const;

export const TOPICS = ['AI agents', 'climate tech', 'open source', 'fintech', 'remote work', 'robotics', 'web3', 'healthcare', 'e-commerce', 'space'] as const;
export const URLS = [
  'https://api.example.com/v1/items',
  'https://news.ycombinator.com/rss',
  'https://hooks.slack.com/services/T000/B000/XXXX',
  'https://www.googleapis.com/youtube/v3/videos',
  'https://api.github.com/repos/acme/app/pulls',
  'https://feeds.bbci.co.uk/news/technology/rss.xml',
] as const;
export const ERRORS = [
  'RateLimitError: 429 Too Many Requests from provider',
  'TimeoutError: request did not complete within 60s',
  'ValueError: missing required input "prompt"',
  'HTTPError: 502 Bad Gateway',
  'JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
  'InsufficientBalanceError: not enough credits to run this block',
  'AuthenticationError: invalid API key for provider',
] as const;

const sentence = (rng: Rng) => rng.pick(SENTENCES);
const paragraph = (rng: Rng, max: number) => Array.from({ length: rng.int(1, max) }, () => sentence(rng)).join(' ');
const llmCost = (rng: Rng) => Math.max(1, Math.round(rng.logNormal(3, 1.1)));

function llm(name: string, weight: number): BlockKind {
  const block = fromCatalogue(name);
  const outputs = block.outputs;
  return {
    ...block,
    weight,
    cost: llmCost,
    inputDefault: (rng) => ({ model: rng.pick(MODELS), sys_prompt: 'You are a concise, helpful assistant.', max_tokens: rng.pick([256, 512, 1024, 4096]) }),
    run: (rng) => ({
      inputs: { prompt: `About ${rng.pick(TOPICS)}: ${sentence(rng)}`, model: rng.pick(MODELS) },
      outputs: { [outputs[0]!.name]: [paragraph(rng, 3)] },
    }),
  };
}

/** A block's identity and ports, from the catalogue the server syncs (src/modules/blocks/catalogue.json). */
function fromCatalogue(name: string): Pick<BlockKind, 'id' | 'name' | 'nodeType' | 'inputs' | 'outputs'> {
  const block = CATALOGUE.blocks.find((b) => b.name === name);
  if (!block) throw new Error(`The seeder's block ${name} is not in the catalogue`);
  return { id: block.id, name: block.name, nodeType: block.nodeType, inputs: inputPortsOf(block), outputs: outputPortsOf(block) };
}

export const BLOCKS: readonly BlockKind[] = [
  {
    ...fromCatalogue('AgentInputBlock'),
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ name: rng.pick(['topic', 'url', 'query', 'email', 'text', 'language']), description: 'Provided by the user' }),
    run: (rng) => ({ inputs: { value: rng.pick(TOPICS) }, outputs: { result: [rng.pick(TOPICS)] } }),
  },
  {
    ...fromCatalogue('AgentOutputBlock'),
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ name: rng.pick(['result', 'summary', 'report', 'answer']), format: '' }),
    run: (rng) => ({ inputs: { value: sentence(rng) }, outputs: { output: [sentence(rng)] } }),
  },
  {
    ...fromCatalogue('WebhookTriggerBlock'),
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ events: rng.sample(['push', 'pull_request', 'issue', 'message', 'form_submit'], 2) }),
    run: (rng) => ({
      inputs: {},
      outputs: { payload: [{ id: rng.int(1000, 99999), source: rng.pick(['github', 'slack', 'typeform']) }], event_type: [rng.pick(['push', 'message'])] },
    }),
  },
  llm('AITextGeneratorBlock', 6),
  llm('AIStructuredResponseGeneratorBlock', 7),
  llm('AITextSummarizerBlock', 5),
  llm('AIConversationBlock', 5),
  {
    ...fromCatalogue('SendWebRequestBlock'),
    weight: 2,
    cost: () => 0,
    inputDefault: (rng) => ({ url: rng.pick(URLS), method: rng.pick(['GET', 'GET', 'POST']), headers: { Accept: 'application/json' } }),
    run: (rng) => ({ inputs: { url: rng.pick(URLS) }, outputs: { response: [{ status: 200, items: rng.int(0, 50) }] } }),
  },
  {
    ...fromCatalogue('FillTextTemplateBlock'),
    weight: 0.1,
    cost: () => 0,
    inputDefault: () => ({ format: 'Hello {{name}}, here is your update about {{topic}}.' }),
    run: (rng) => ({ inputs: { values: { topic: rng.pick(TOPICS) } }, outputs: { output: [sentence(rng)] } }),
  },
  {
    ...fromCatalogue('ConditionBlock'),
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ operator: rng.pick(['==', '!=', '>', '<', 'contains']), value2: rng.int(0, 10) }),
    run: (rng) => {
      const yes = rng.chance(0.6);
      return { inputs: { value1: rng.int(0, 20) }, outputs: yes ? { result: [true], yes_output: [true] } : { result: [false], no_output: [false] } };
    },
  },
  {
    ...fromCatalogue('ExtractTextInformationBlock'),
    weight: 0.1,
    cost: () => 0,
    inputDefault: (rng) => ({ pattern: rng.pick(['(\\d+)%', '#(\\d+)', '"([^"]+)"']), group: 1 }),
    run: (rng) => ({ inputs: { text: sentence(rng) }, outputs: { positive: [String(rng.int(1, 99))] } }),
  },
  {
    ...fromCatalogue('GetCurrentDateAndTimeBlock'),
    weight: 0.02,
    cost: () => 0,
    inputDefault: () => ({ format: '%Y-%m-%d %H:%M:%S' }),
    run: (rng) => ({ inputs: { trigger: 'go' }, outputs: { date_time: [`2025-0${rng.int(1, 9)}-1${rng.int(0, 9)} 0${rng.int(0, 9)}:00:00`] } }),
  },
  {
    ...fromCatalogue('StoreValueBlock'),
    weight: 0.02,
    cost: () => 0,
    inputDefault: () => ({}),
    run: (rng) => ({ inputs: { input: rng.pick(TOPICS) }, outputs: { output: [rng.pick(TOPICS)] } }),
  },
  {
    ...fromCatalogue('SearchTheWebBlock'),
    weight: 3,
    cost: () => 1,
    inputDefault: () => ({}),
    run: (rng) => ({ inputs: { query: `latest news on ${rng.pick(TOPICS)}` }, outputs: { results: [paragraph(rng, 2)] } }),
  },
  {
    ...fromCatalogue('ReadRSSFeedBlock'),
    weight: 1.5,
    cost: () => 0,
    inputDefault: (rng) => ({ rss_url: rng.pick(URLS), time_period: 1440 }),
    run: (rng) => ({ inputs: { rss_url: rng.pick(URLS) }, outputs: { entry: [{ title: sentence(rng), link: rng.pick(URLS) }] } }),
  },
  {
    ...fromCatalogue('SendEmailBlock'),
    weight: 1,
    cost: () => 1,
    inputDefault: () => ({ subject: 'Your daily digest' }),
    run: (rng) => ({ inputs: { to_email: `user${rng.int(1, 999)}@example.com`, body: sentence(rng) }, outputs: { status: ['sent'] } }),
  },
  {
    ...fromCatalogue('AddToListBlock'),
    weight: 0.02,
    cost: () => 0,
    inputDefault: () => ({ list: [] }),
    run: (rng) => ({ inputs: { entry: rng.pick(TOPICS) }, outputs: { updated_list: [rng.sample(TOPICS, rng.int(1, 4))] } }),
  },
  {
    ...fromCatalogue('ExecuteCodeBlock'),
    weight: 2.5,
    cost: () => 2,
    inputDefault: (rng) => ({ language: rng.pick(['python', 'javascript']), timeout: 30, code: 'print(len(items))' }),
    run: (rng) => ({ inputs: { code: 'print(len(items))' }, outputs: { stdout: [String(rng.int(0, 500))] } }),
  },
];

export const INPUT_BLOCK = BLOCKS[0]!;
export const OUTPUT_BLOCK = BLOCKS[1]!;
export const WEBHOOK_BLOCK = BLOCKS[2]!;
export const STANDARD_BLOCKS: readonly BlockKind[] = BLOCKS.filter((b) => b.nodeType === 'STANDARD');
/** How often each standard block appears in generated graphs. */
export const STANDARD_WEIGHTS: ReadonlyArray<readonly [BlockKind, number]> = STANDARD_BLOCKS.map((b) => [
  b,
  b.name.startsWith('AI') ? 4 : b.name === 'SendWebRequestBlock' || b.name === 'FillTextTemplateBlock' ? 3 : 1.5,
]);

export const GRAPH_NAMES = [
  'Daily News Digest', 'YouTube Video Summarizer', 'Lead Enrichment', 'Customer Support Triage', 'Blog Post Writer',
  'Competitor Price Monitor', 'Meeting Notes to Tasks', 'Tweet Sentiment Tracker', 'Invoice Reminder', 'PR Review Helper',
  'Reddit Trend Finder', 'Email Auto-Responder', 'SEO Keyword Researcher', 'Podcast Show Notes', 'Job Posting Screener',
  'Weather Briefing', 'Translation Pipeline', 'Slack Standup Collector', 'Product Hunt Scout', 'Research Assistant',
  'Log Anomaly Watcher', 'Recipe Planner', 'Changelog Generator', 'Sales Call Summarizer', 'Discord Moderator',
];

export const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Guido', 'Hedy', 'Tim', 'Katherine', 'John', 'Sophie', 'Yuki', 'Amara', 'Mateo', 'Priya', 'Lars', 'Fatima', 'Chen'];
export const LAST_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'van Rossum', 'Lamarr', 'Berners-Lee', 'Johnson', 'McCarthy', 'Wilson', 'Tanaka', 'Okafor', 'García', 'Sharma', 'Nilsson', 'Haddad', 'Wei'];
export const EMAIL_DOMAINS = ['example.com', 'example.org', 'acme.test', 'agents.example.net'];

export const APP_NAMES = ['support-bot', 'research-assistant', 'travel-planner', 'code-reviewer', 'sales-copilot'] as const;
export const AGENTS: Record<(typeof APP_NAMES)[number], readonly string[]> = {
  // The first agent of each app leads its team sessions.
  'support-bot': ['support_agent', 'billing_agent', 'escalation_agent', 'refund_agent'],
  'research-assistant': ['researcher', 'summarizer', 'fact_checker'],
  'travel-planner': ['planner', 'flight_finder', 'hotel_finder'],
  'code-reviewer': ['reviewer', 'test_writer', 'linter'],
  'sales-copilot': ['prospector', 'email_writer', 'crm_updater'],
};
export const TOOLS = ['google_search', 'fetch_url', 'lookup_order', 'create_ticket', 'run_tests', 'search_flights', 'query_crm', 'calculator'] as const;
export const USER_MESSAGES = [
  'Hi, my order #4821 has not arrived yet.',
  'Can you find recent papers on retrieval-augmented generation?',
  'Plan a 4-day trip to Kyoto in April, mid-range budget.',
  'Please review the diff in src/server.ts.',
  'Draft a follow-up email for the Acme lead.',
  'What changed between version 2 and 3?',
  'Thanks, that works!',
  'Can you make it shorter?',
  'Use metric units please.',
  'Why did the last run fail?',
] as const;
