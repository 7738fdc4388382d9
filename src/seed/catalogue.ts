/**
 * The fixed block catalogue and text fragments the seeder draws from. Block ids are stable (seed data and
 * tests may rely on them); the kinds mirror AutoGPT's common blocks.
 */
import type { Rng } from './random.js';

export type NodeTypeName = 'STANDARD' | 'INPUT' | 'OUTPUT' | 'WEBHOOK';
type Json = Record<string, unknown>;

export interface BlockKind {
  id: string;
  name: string;
  nodeType: NodeTypeName;
  inputs: readonly string[];
  outputs: readonly string[];
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

function llm(id: string, name: string, outputs: readonly string[], weight: number): BlockKind {
  return {
    id,
    name,
    nodeType: 'STANDARD',
    inputs: ['prompt', 'sys_prompt', 'model', 'max_tokens'],
    outputs,
    weight,
    cost: llmCost,
    inputDefault: (rng) => ({ model: rng.pick(MODELS), sys_prompt: 'You are a concise, helpful assistant.', max_tokens: rng.pick([256, 512, 1024, 4096]) }),
    run: (rng) => ({
      inputs: { prompt: `About ${rng.pick(TOPICS)}: ${sentence(rng)}`, model: rng.pick(MODELS) },
      outputs: { [outputs[0]!]: [paragraph(rng, 3)] },
    }),
  };
}

export const BLOCKS: readonly BlockKind[] = [
  {
    id: 'c0a8e994-ebf1-4a9c-a4d8-89d09c86741b',
    name: 'AgentInputBlock',
    nodeType: 'INPUT',
    inputs: ['name', 'value', 'description'],
    outputs: ['result'],
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ name: rng.pick(['topic', 'url', 'query', 'email', 'text', 'language']), description: 'Provided by the user' }),
    run: (rng) => ({ inputs: { value: rng.pick(TOPICS) }, outputs: { result: [rng.pick(TOPICS)] } }),
  },
  {
    id: '363ae599-353e-4804-937e-b2ee3cef3da4',
    name: 'AgentOutputBlock',
    nodeType: 'OUTPUT',
    inputs: ['name', 'value', 'format'],
    outputs: ['output'],
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ name: rng.pick(['result', 'summary', 'report', 'answer']), format: '' }),
    run: (rng) => ({ inputs: { value: sentence(rng) }, outputs: { output: [sentence(rng)] } }),
  },
  {
    id: '8fa8c167-2002-47ce-aba8-97572fc5d387',
    name: 'WebhookTriggerBlock',
    nodeType: 'WEBHOOK',
    inputs: ['webhook_url', 'events'],
    outputs: ['payload', 'event_type'],
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ events: rng.sample(['push', 'pull_request', 'issue', 'message', 'form_submit'], 2) }),
    run: (rng) => ({
      inputs: {},
      outputs: { payload: [{ id: rng.int(1000, 99999), source: rng.pick(['github', 'slack', 'typeform']) }], event_type: [rng.pick(['push', 'message'])] },
    }),
  },
  llm('1f292d4a-41a4-4977-9684-7c8d560b9f91', 'AITextGeneratorBlock', ['response', 'prompt'], 6),
  llm('ed55ac19-356e-4243-a6cb-bc599e9b716f', 'AIStructuredResponseGeneratorBlock', ['response', 'prompt'], 7),
  llm('a0a69be1-4528-491c-a85a-a4ab6873e3a1', 'AITextSummarizerBlock', ['summary', 'prompt'], 5),
  llm('c3d4c526-2f61-4e4b-9c3d-0e1a1e4b6d8a', 'AIConversationBlock', ['response', 'prompt'], 5),
  {
    id: '6595ae1f-b924-42cb-9a41-551a0611c4b4',
    name: 'SendWebRequestBlock',
    nodeType: 'STANDARD',
    inputs: ['url', 'method', 'headers', 'body'],
    outputs: ['response', 'client_error', 'server_error'],
    weight: 2,
    cost: () => 0,
    inputDefault: (rng) => ({ url: rng.pick(URLS), method: rng.pick(['GET', 'GET', 'POST']), headers: { Accept: 'application/json' } }),
    run: (rng) => ({ inputs: { url: rng.pick(URLS) }, outputs: { response: [{ status: 200, items: rng.int(0, 50) }] } }),
  },
  {
    id: 'db7d8f02-2f44-4c55-ab7a-eae0941f0c30',
    name: 'FillTextTemplateBlock',
    nodeType: 'STANDARD',
    inputs: ['values', 'format'],
    outputs: ['output'],
    weight: 0.1,
    cost: () => 0,
    inputDefault: () => ({ format: 'Hello {{name}}, here is your update about {{topic}}.' }),
    run: (rng) => ({ inputs: { values: { topic: rng.pick(TOPICS) } }, outputs: { output: [sentence(rng)] } }),
  },
  {
    id: '715696a0-e1da-45c8-b209-c2fa9c3b0be6',
    name: 'ConditionBlock',
    nodeType: 'STANDARD',
    inputs: ['value1', 'operator', 'value2', 'yes_value', 'no_value'],
    outputs: ['result', 'yes_output', 'no_output'],
    weight: 0.05,
    cost: () => 0,
    inputDefault: (rng) => ({ operator: rng.pick(['==', '!=', '>', '<', 'contains']), value2: rng.int(0, 10) }),
    run: (rng) => {
      const yes = rng.chance(0.6);
      return { inputs: { value1: rng.int(0, 20) }, outputs: yes ? { result: [true], yes_output: [true] } : { result: [false], no_output: [false] } };
    },
  },
  {
    id: '3146e4fe-2cdd-4f29-bd12-0c9d5bb4deb0',
    name: 'ExtractTextInformationBlock',
    nodeType: 'STANDARD',
    inputs: ['text', 'pattern', 'group'],
    outputs: ['positive', 'negative'],
    weight: 0.1,
    cost: () => 0,
    inputDefault: (rng) => ({ pattern: rng.pick(['(\\d+)%', '#(\\d+)', '"([^"]+)"']), group: 1 }),
    run: (rng) => ({ inputs: { text: sentence(rng) }, outputs: { positive: [String(rng.int(1, 99))] } }),
  },
  {
    id: 'a892b8d9-3e4e-4e9c-9c1e-75f8efcf1bfa',
    name: 'GetCurrentDateAndTimeBlock',
    nodeType: 'STANDARD',
    inputs: ['trigger', 'format'],
    outputs: ['date_time'],
    weight: 0.02,
    cost: () => 0,
    inputDefault: () => ({ format: '%Y-%m-%d %H:%M:%S' }),
    run: (rng) => ({ inputs: { trigger: 'go' }, outputs: { date_time: [`2025-0${rng.int(1, 9)}-1${rng.int(0, 9)} 0${rng.int(0, 9)}:00:00`] } }),
  },
  {
    id: '1ff065e9-88e8-4358-9d82-8dc91f622ba9',
    name: 'StoreValueBlock',
    nodeType: 'STANDARD',
    inputs: ['input', 'data'],
    outputs: ['output'],
    weight: 0.02,
    cost: () => 0,
    inputDefault: () => ({}),
    run: (rng) => ({ inputs: { input: rng.pick(TOPICS) }, outputs: { output: [rng.pick(TOPICS)] } }),
  },
  {
    id: '87840993-2053-44b7-8da4-187ad4ee518c',
    name: 'SearchTheWebBlock',
    nodeType: 'STANDARD',
    inputs: ['query'],
    outputs: ['results', 'error'],
    weight: 3,
    cost: () => 1,
    inputDefault: () => ({}),
    run: (rng) => ({ inputs: { query: `latest news on ${rng.pick(TOPICS)}` }, outputs: { results: [paragraph(rng, 2)] } }),
  },
  {
    id: '5ebe6768-8e5d-41e3-9134-1c7bd89a8d52',
    name: 'ReadRSSFeedBlock',
    nodeType: 'STANDARD',
    inputs: ['rss_url', 'time_period', 'polling_rate'],
    outputs: ['entry', 'entries'],
    weight: 1.5,
    cost: () => 0,
    inputDefault: (rng) => ({ rss_url: rng.pick(URLS), time_period: 1440 }),
    run: (rng) => ({ inputs: { rss_url: rng.pick(URLS) }, outputs: { entry: [{ title: sentence(rng), link: rng.pick(URLS) }] } }),
  },
  {
    id: '4335878a-394e-4e67-adf2-919877ff49ae',
    name: 'SendEmailBlock',
    nodeType: 'STANDARD',
    inputs: ['to_email', 'subject', 'body'],
    outputs: ['status', 'error'],
    weight: 1,
    cost: () => 1,
    inputDefault: () => ({ subject: 'Your daily digest' }),
    run: (rng) => ({ inputs: { to_email: `user${rng.int(1, 999)}@example.com`, body: sentence(rng) }, outputs: { status: ['sent'] } }),
  },
  {
    id: 'aeb08fc1-2fc1-4141-bc8e-f758f183a822',
    name: 'AddToListBlock',
    nodeType: 'STANDARD',
    inputs: ['list', 'entry', 'position'],
    outputs: ['updated_list'],
    weight: 0.02,
    cost: () => 0,
    inputDefault: () => ({ list: [] }),
    run: (rng) => ({ inputs: { entry: rng.pick(TOPICS) }, outputs: { updated_list: [rng.sample(TOPICS, rng.int(1, 4))] } }),
  },
  {
    id: '0e50422c-6dee-4145-83d6-3a5a392f65de',
    name: 'ExecuteCodeBlock',
    nodeType: 'STANDARD',
    inputs: ['code', 'language', 'timeout'],
    outputs: ['stdout', 'stderr'],
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
