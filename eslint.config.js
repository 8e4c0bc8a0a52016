import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import prettier from 'eslint-config-prettier'

/** Imports that keep the shape: the AWS SDK only in src/lib/aws, the CLI framework never in src/lib, commands independent. */
const AWS_SDK = {
  group: ['@aws-sdk/*', '@smithy/*'],
  message: 'The AWS SDK is used only under src/lib/aws: pass the session or a narrow interface instead.',
}
const OCLIF = {
  group: ['@oclif/*'],
  message: 'Library code does not know the CLI framework: the command layer parses and renders.',
}
const COMMANDS = {
  group: ['**/commands/*', './*'],
  message: 'Commands do not import each other: share code through src/lib or src/*.ts.',
}

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'demo-output/**', 'bench-output/**', 'test/fixtures/**/*.mjs']},
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: {console: 'readonly', process: 'readonly'},
      parserOptions: {
        projectService: {allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs']},
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_'}],
      // Numbers and booleans read fine in messages; objects and undefined do not.
      '@typescript-eslint/restrict-template-expressions': ['error', {allowNumber: true, allowBoolean: true}],
      '@typescript-eslint/no-confusing-void-expression': ['error', {ignoreArrowShorthand: true}],
      // Promise-returning interfaces (oclif's parse, the SDK's retry strategy, fakes) are implemented
      // with async functions that need not await; the rule would only force Promise.resolve noise.
      '@typescript-eslint/require-await': 'off',
      'no-console': 'off',
      eqeqeq: ['error', 'always', {null: 'ignore'}],
      'prefer-const': 'error',
    },
  },
  {files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked},
  {
    files: ['src/**/*.ts'],
    ignores: ['src/lib/aws/**'],
    rules: {'no-restricted-imports': ['error', {patterns: [AWS_SDK]}]},
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': ['error', {patterns: [OCLIF]}],
      'no-restricted-properties': [
        'error',
        {object: 'process', property: 'env', message: 'Library code gets its configuration passed in.'},
        {object: 'process', property: 'exit', message: 'Library code throws; the command maps errors to exit codes.'},
      ],
    },
  },
  {
    files: ['src/lib/**/*.ts'],
    ignores: ['src/lib/aws/**'],
    rules: {'no-restricted-imports': ['error', {patterns: [OCLIF, AWS_SDK]}]},
  },
  {
    files: ['src/commands/**/*.ts'],
    rules: {'no-restricted-imports': ['error', {patterns: [AWS_SDK, COMMANDS]}]},
  },
  {
    // Tests use node:test's callbacks and assertion helpers, whose types these rules misread.
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Assertions read optional values defensively (row?.[0] on an array index), and pass methods to assert.rejects.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  // Layout is Prettier's (checked by `npm run lint`); eslint keeps to what code means.
  prettier,
)
