// Entry script of a proxy cluster worker (cluster.setupPrimary({ exec }) points here).
import { runWorker } from './worker.js';

runWorker();
