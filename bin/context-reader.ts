import type { Node } from 'constructs';
import type { AlarmEventsSelection } from '../lib/eventbridge-intake';

/** Typed reads of CDK context: `-c key=value` arrives as a string, cdk.json values keep their JSON type. */
export class ContextReader {
  constructor(private readonly node: Node) {}

  text(key: string): string | undefined {
    const value: unknown = this.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`Context "${key}" must be a string`);
    return value;
  }

  /** The value as JSON when it is a string that parses, else as given; undefined when empty. */
  json(key: string): unknown {
    const value: unknown = this.node.tryGetContext(key);
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }

  flag(key: string): boolean | undefined {
    const value = this.json(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new Error(`Context "${key}" must be true or false`);
    return value;
  }

  number(key: string, example: string): number | undefined {
    const value = this.json(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw new Error(`Context "${key}" must be a number, ${example}`);
    return value;
  }

  /** A JSON array or a comma-separated list. */
  list(key: string, what: string): string[] | undefined {
    const value = this.json(key);
    if (typeof value === 'string') return value.split(',').map((item) => item.trim());
    if (Array.isArray(value)) return value.map((item) => String(item));
    if (value === undefined || value === null) return undefined;
    throw new Error(`Context "${key}" must be a JSON array or a comma-separated list of ${what}`);
  }

  /** Account IDs; a lone number (cdk.json) is one account, its leading zeros restored. */
  accountIds(): string[] | undefined {
    const value = this.json('publisherAccountIds');
    if (typeof value === 'number') return [String(value).padStart(12, '0')];
    return this.list('publisherAccountIds', 'account IDs');
  }

  routes(): Record<string, string> | undefined {
    return this.textMap(
      'routes',
      'route name → secret name',
      '-c routes=\'{"database":"pagerduty/database"}\'',
    );
  }

  environmentRoutes(): Record<string, string> | undefined {
    return this.textMap(
      'environmentRoutes',
      'environment → route name',
      '-c environmentRoutes=\'{"staging":"staging"}\'',
    );
  }

  /** A JSON object whose values are non-empty strings. */
  private textMap(key: string, what: string, example: string): Record<string, string> | undefined {
    const value = this.json(key);
    if (value === undefined || value === null) return undefined;
    const isMap =
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.values(value).every((text) => typeof text === 'string' && text !== '');
    if (!isMap) throw new Error(`Context "${key}" must be a JSON object of ${what}, e.g. ${example}`);
    return value as Record<string, string>;
  }

  alarmEvents(): AlarmEventsSelection | undefined {
    const value = this.json('alarmEvents');
    if (value === true) return {};
    if (value === undefined || value === null || value === false) return undefined;
    const isSelection =
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).every((key) => key === 'routeTagged' || key === 'alarmNamePrefixes');
    if (!isSelection) {
      throw new Error(
        'Context "alarmEvents" must be true or a JSON object such as \'{"alarmNamePrefixes":["prod-"],"routeTagged":true}\'',
      );
    }
    return value;
  }
}
