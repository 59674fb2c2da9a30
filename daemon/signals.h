// Waiting for SIGINT / SIGTERM without a signal handler: the signals are
// blocked in every thread and taken synchronously with sigwait().
#ifndef RECONDB_DAEMON_SIGNALS_H_
#define RECONDB_DAEMON_SIGNALS_H_

namespace recondb::daemon {

// Blocks SIGINT and SIGTERM in the calling thread. Threads created afterwards
// inherit the mask, so call it first in main(), before gRPC, spdlog or the
// worker pool start threads; otherwise a signal could be delivered to (and
// kill the process from) a thread that does not block it.
void BlockTerminationSignals();

// Waits until SIGINT or SIGTERM arrives and returns its number.
// REQUIRES: BlockTerminationSignals() was called before any thread started.
int WaitForTerminationSignal();

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_SIGNALS_H_
