// TypeDoc plugin: leaves out members a class inherits from another package (aws-cdk-lib's Stack, constructs'
// Construct), which would bury this package's few members under about a thousand lines per stack class.
import { Converter } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const { project } = context;
    for (const reflection of Object.values(project.reflections)) {
      const from = 'inheritedFrom' in reflection ? reflection.inheritedFrom : undefined;
      // A base class of this package resolves to its reflection; one from another package does not.
      if (from !== undefined && from.reflection === undefined) project.removeReflection(reflection);
    }
  });
}
