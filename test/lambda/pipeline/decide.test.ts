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
  it('sends nothing for a suppressed or muted change, whatever its state, and says why', () => {
    for (const newState of ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const) {
      const decision = decideAction(
        alarm({ newState, actionsSuppressed: { by: 'MuteRule', reason: 'actions muted by mute rule x' } }),
        settings({ insufficientData: 'trigger' }),
      );
      expect(decision).toEqual({
        send: false,
        reason:
          'CloudWatch runs no action for this change of alarm "HighErrorRate": actions muted by mute rule x',
      });
    }
  });
});
