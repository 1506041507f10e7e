import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // A promise nobody awaits loses its rejection; one passed where a callback returns void does too.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        // CDK's Duration prints as `Duration.days(3)`, which is what an error message about a prop should say.
        { allow: [{ from: 'package', name: 'Duration', package: 'aws-cdk-lib' }] },
      ],
    },
  },
  {
    // Files a person can hold, functions that read in one screen (test/layout.test.ts holds the 60-line mark).
    files: ['lambda/**/*.ts', 'lib/**/*.ts', 'bin/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 600 }],
      'max-lines-per-function': ['error', { max: 100 }],
    },
  },
  {
    // shared/ is the bottom layer: contract, errors, text, JSON helpers. It imports nothing else of the project.
    files: ['lambda/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*'], message: 'lambda/shared/ imports nothing outside itself.' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    // Jest's asymmetric matchers (expect.any, expect.stringMatching…) and parsed JSON fixtures are typed `any`.
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Test fakes implement async interfaces (ledgers, secret stores) without anything to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
