import { eventBridgeVouchedMs } from '../../../lambda/pipeline/intake';

describe('the time an EventBridge event vouches for', () => {
  it('is the end of the whole second EventBridge writes, so its change is not ordered before its SNS copy', () => {
    // The change happened at 16:00:04.653; EventBridge says 16:00:04Z.
    expect(eventBridgeVouchedMs('2019-10-03T16:00:04Z')).toBe(Date.UTC(2019, 9, 3, 16, 0, 4, 999));
  });

  it('is the time itself when it carries fractions of a second', () => {
    expect(eventBridgeVouchedMs('2019-10-03T16:00:04.250Z')).toBe(Date.UTC(2019, 9, 3, 16, 0, 4, 250));
  });

  it('is nothing when the time cannot be read', () => {
    expect(eventBridgeVouchedMs('yesterday')).toBeUndefined();
  });
});
