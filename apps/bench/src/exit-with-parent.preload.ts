/*
 * Preloaded into each daemon the benchmark starts (`node -r`): the benchmark holds the daemon's stdin, so when
 * the benchmark dies, even by SIGKILL, the daemon sees its stdin end and stops as on SIGTERM (no daemon is left
 * running on a Redis that is gone).
 */
process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM')).resume();
