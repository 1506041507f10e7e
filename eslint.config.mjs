import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '**/*.js', '**/*.mjs'] },
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
