// What opt-in model triage costs the path without it, and what one triage call sends. Run: `tsx bench/triage-footprint.ts
// [other-checkout]` to compare this tree's deployed handler bundle with another checkout's (e.g. main before triage).
//  1. The handler bundle (the deployed esbuild options): bytes, and the time to import it in a fresh node (median).
//  2. One ALARM and its OK through the in-process handler with triage off: ledger calls and PagerDuty POSTs.
//  3. The prompt of one triage call for the fixture alarm: characters of the system prompt, tool and user message.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { deployedBundleOptions } from '../lib/private/handler-bundle';
import { metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { createHandler } from '../lambda/handler';
import { parseNotification } from '../lambda/messages/parse-notification';
import type { AlarmNotification } from '../lambda/messages/notification';
import type { LedgerStore } from '../lambda/pipeline/ledger';
import { systemPrompt, triageTool, userMessage } from '../lambda/triage/prompt';
import { inProcessDeps, TEST_ENV } from '../test/support/in-process';

async function bundle(root: string): Promise<{ file: string; bytes: number }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'triage-footprint-')), 'handler.mjs');
  await build({
    ...deployedBundleOptions(path.join(root, 'lambda', 'handler.ts'), file, true),
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size };
}

/** Median import time of each bundle in a fresh node, the bundles taking turns so that load on the machine hits both. */
function importMedians(files: readonly string[], rounds = 15): number[] {
  const times = files.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    files.forEach((file, i) => {
      const probe = `const t=performance.now();await import(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t))`;
      times[i]!.push(
        Number(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })),
      );
    });
  }
  return times.map((list) => Math.round(list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!));
}

async function callsWithoutTriage(): Promise<Record<string, number>> {
  const NOW = Date.UTC(2026, 10, 29, 12);
  const pipeline = inProcessDeps({}, NOW);
  const calls: Record<string, number> = {};
  const counted = new Proxy(pipeline.ledger, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[`ledger.${String(name)}`] = (calls[`ledger.${String(name)}`] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as LedgerStore;
  const handler = createHandler(TEST_ENV, { deps: { ...pipeline.deps, ledger: counted } });
  for (const [state, at] of [
    ['ALARM', NOW - 120_000],
    ['OK', NOW - 60_000],
  ] as const) {
    await handler(
      snsEvent([metricAlarmMessage({ state, stateChangeMs: at })], {
        timestamp: new Date(at + 500).toISOString(),
      }),
    );
  }
  return { ...calls, pagerDutyPosts: pipeline.pagerDuty.landed.length };
}

function promptSize(): Record<string, number> {
  const at = Date.UTC(2026, 10, 29, 11);
  const alarm = parseNotification({
    messageId: 'm',
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alarm-to-pagerduty',
    timestamp: new Date(at).toISOString(),
    message: JSON.stringify(metricAlarmMessage({ state: 'ALARM', stateChangeMs: at })),
  }) as AlarmNotification;
  const open = Array.from({ length: 3 }, (_, i) => ({
    dedupKey: `k${i}`,
    alarmName: `orders-db-${['cpu', 'connections', 'replica-lag'][i]}`,
    stateChangeMs: at - i * 30_000,
  }));
  const noteMax = 300;
  const system = JSON.stringify(systemPrompt(noteMax)).length;
  const tool = JSON.stringify(triageTool(noteMax)).length;
  const user = JSON.stringify(
    userMessage({ alarm, openAlarms: open, previous: { action: 'resolve', stateChangeMs: at - 86_400_000 } }),
  ).length;
  return { systemChars: system, toolChars: tool, userChars: user, totalChars: system + tool + user };
}

async function main(): Promise<void> {
  const roots = [path.join(__dirname, '..'), ...process.argv.slice(2).map((root) => path.resolve(root))];
  const bundles = await Promise.all(roots.map(bundle));
  const medians = importMedians(bundles.map(({ file }) => file));
  const rows: Record<string, unknown> = Object.fromEntries(
    roots.map((root, i) => [
      `handler bundle of ${root}`,
      { bytes: bundles[i]!.bytes, importMsMedian: medians[i] },
    ]),
  );
  rows['one ALARM + OK, triage off'] = await callsWithoutTriage();
  rows['one triage prompt'] = promptSize();
  console.log(JSON.stringify(rows, null, 2));
}

void main();
