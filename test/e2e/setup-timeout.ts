// `testTimeout` is a global jest option (ignored inside a project), so the e2e project sets its own here: e2e tests
// wait on a real API server and real processes.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);
