// Set up before every test file (jest's setupFilesAfterEnv): the tokens its fetch calls send and
// receive are recorded for the secrets scan, whoever makes them (the test, or a service running in
// the test's process calling a peer).
import { recordFetchTokens } from './secrets.js';

recordFetchTokens();
