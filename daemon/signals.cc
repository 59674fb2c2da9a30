#include "daemon/signals.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>

namespace recondb::daemon {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  const sigset_t set = TerminationSignals();
  int signal = 0;
  // sigwait only fails with EINVAL for a bad set; loop anyway rather than
  // report a signal that did not come.
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

}  // namespace recondb::daemon
