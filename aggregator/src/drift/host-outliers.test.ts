import type { ExceptionRule } from '@envparity/shared';
import { describe, expect, it } from 'vitest';
import { snapshotOf, testClassifier } from '../../testing/drift-hosts.js';
import { environmentState } from './environment-states.js';
import { DriftJudge, hasDrift, hostDrift } from './host-outliers.js';

const facts = (logLevel: string, cores = 8) => ({
  'config.env.LOG_LEVEL': logLevel,
  'config.env.REGION': 'eu',
  'hardware.cpu.cores': cores,
});
const exception: ExceptionRule = {
  id: 'exc-1',
  path: 'config.env.LOG_LEVEL',
  environments: ['production'],
  reason: 'debugging',
  expiresAt: null,
};

function production(logLevels: string[]) {
  const hosts = logLevels.map((level, i) => snapshotOf(`p${i + 1}`, 'production', facts(level, 8 + i)));
  return environmentState({ environment: 'production', hosts, classify: testClassifier });
}

describe('DriftJudge', () => {
  it('counts behavior paths off the baseline that no exception justifies; scale never drifts', () => {
    const state = production(['info', 'info', 'info', 'warn']);
    const [, , p3, p4] = state.baselineHosts;
    const judge = new DriftJudge('production', [], new Date());
    expect(hostDrift(state.index, p4!, judge)).toMatchObject({ count: 1, paths: ['config.env.LOG_LEVEL'] });
    // p3 differs only in cores (scale).
    expect(hostDrift(state.index, p3!, judge)).toBeUndefined();
    const excepted = new DriftJudge('production', [exception], new Date());
    expect(hasDrift(state.index, p4!, excepted)).toBe(false);
    expect(excepted.key).not.toBe(judge.key);
  });

  it('judges a difference list once for every host sharing its blob, per baseline', () => {
    const state = production(['info', 'info', 'info', 'warn', 'warn']);
    const [, , , p4, p5] = state.baselineHosts;
    const judge = new DriftJudge('production', [], new Date());
    const [list4] = state.index.host(p4!).filter((list) => list.key.startsWith('config'));
    const [list5] = state.index.host(p5!).filter((list) => list.key.startsWith('config'));
    expect(list4?.key).toBe(list5?.key);
    expect(judge.judge(state.index, list4!)).toBe(judge.judge(state.index, list5!));
    // Another baseline: list keys name blobs, not baselines, so the judgement starts over.
    const other = production(['debug', 'debug', 'debug', 'warn', 'warn']);
    const [list] = other.index.host(other.baselineHosts[3]!).filter((l) => l.key.startsWith('config'));
    expect(list?.key).toBe(list4?.key);
    expect(judge.judge(state.index, list4!).first[0]).toMatchObject({ expected: 'info', actual: 'warn' });
    expect(judge.judge(other.index, list!).first[0]).toMatchObject({ expected: 'debug', actual: 'warn' });
  });
});
