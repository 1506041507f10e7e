import { decideAction } from '../../../lambda/pipeline/decide';
import { alarm, settings, unrecognised } from '../../support/notifications';

describe('decideAction', () => {
  it('triggers on ALARM and resolves on OK, whatever the insufficient-data policy', () => {
    for (const policy of ['ignore', 'trigger', 'resolve'] as const) {
      expect(decideAction(alarm({ newState: 'ALARM' }), settings({ insufficientData: policy }))).toEqual({
        send: true,
        action: 'trigger',
      });
      expect(decideAction(alarm({ newState: 'OK' }), settings({ insufficientData: policy }))).toEqual({
        send: true,
        action: 'resolve',
      });
    }
  });

  it('follows the policy on INSUFFICIENT_DATA', () => {
    const n = alarm({ newState: 'INSUFFICIENT_DATA' });
    expect(decideAction(n, settings({ insufficientData: 'trigger' }))).toEqual({
      send: true,
      action: 'trigger',
    });
    expect(decideAction(n, settings({ insufficientData: 'resolve' }))).toEqual({
      send: true,
      action: 'resolve',
    });
    expect(decideAction(n, settings({ insufficientData: 'ignore' }))).toEqual({
      send: false,
      reason:
        'INSUFFICIENT_DATA is ignored for alarm "HighErrorRate" (insufficient-data policy "ignore"): the incident stays as it is',
    });
  });

  it('triggers on an unrecognised message', () => {
    expect(decideAction(unrecognised(), settings({ insufficientData: 'ignore' }))).toEqual({
      send: true,
      action: 'trigger',
    });
  });
});

describe('decideAction when CloudWatch runs no action', () => {
  const muted = { by: 'MuteRule', reason: 'actions muted by mute rule x' };

  it('pages nothing for a suppressed or muted ALARM (or INSUFFICIENT_DATA that would trigger), and says why', () => {
    for (const newState of ['ALARM', 'INSUFFICIENT_DATA'] as const) {
      const decision = decideAction(
        alarm({ newState, actionsSuppressed: muted }),
        settings({ insufficientData: 'trigger' }),
      );
      expect(decision).toEqual({
        send: false,
        reason:
          'CloudWatch runs no action for this change of alarm "HighErrorRate": actions muted by mute rule x',
      });
    }
  });

  // Issue 18: a mute silences pages; it must not pin an incident open after the window ends.
  it('still resolves on a muted or suppressed OK, and on INSUFFICIENT_DATA whose policy resolves', () => {
    for (const by of ['MuteRule', 'WaitPeriod', 'Alarm']) {
      expect(
        decideAction(alarm({ newState: 'OK', actionsSuppressed: { ...muted, by } }), settings({})),
      ).toEqual({ send: true, action: 'resolve' });
    }
    expect(
      decideAction(
        alarm({ newState: 'INSUFFICIENT_DATA', actionsSuppressed: muted }),
        settings({ insufficientData: 'resolve' }),
      ),
    ).toEqual({ send: true, action: 'resolve' });
  });
});
