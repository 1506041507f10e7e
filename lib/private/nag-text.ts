import type { Stack } from 'aws-cdk-lib';

/** A resource as cdk-nag names it in a finding: references as <LogicalId> / <LogicalId.Attr>, pseudo parameters too. */
export function nagText(stack: Stack, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const v = part as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    return JSON.stringify(part);
  };
  return render(stack.resolve(value));
}
