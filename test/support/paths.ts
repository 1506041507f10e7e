import { join } from 'node:path';

/** The repository's root and the test folder, wherever a test file sits in the tree. */
export const REPO_ROOT = join(__dirname, '..', '..');
export const TEST_ROOT = join(__dirname, '..');
