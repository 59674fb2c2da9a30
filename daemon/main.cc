// recondbd: the recondb database daemon. Wiring only; see daemon/DESIGN.md.
#include <cstring>
#include <iostream>

#include "absl/synchronization/mutex.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"
#include "daemon/signals.h"

int main(int argc, char** argv) {
  namespace rd = recondb::daemon;
  // Before any thread exists, so that every thread inherits the mask.
  rd::BlockTerminationSignals();
  // Debian builds abseil without NDEBUG, which leaves Mutex deadlock
  // detection on: a lock-order graph updated on every lock, ~1-2% of the
  // daemon's CPU. The tests keep it on; the daemon runs as abseil's release
  // builds do.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::StatusOr<rd::Config> config = rd::ParseConfig(argc, argv, rd::ProcessEnvironment());
  if (!config.ok()) {
    std::cerr << "recondbd: " << config.status().message() << "\n";
    return 1;
  }
  std::shared_ptr<spdlog::logger> logger = rd::MakeStderrLogger("recondbd", config->log_level);

  absl::StatusOr<std::unique_ptr<rd::Daemon>> daemon = rd::Daemon::Start(*config, logger);
  if (!daemon.ok()) {
    logger->error("recondbd cannot start: {}", std::string(daemon.status().message()));
    return 1;
  }

  const int signal = rd::WaitForTerminationSignal();
  logger->info("recondbd received SIG{}, shutting down", sigabbrev_np(signal));
  (*daemon)->Shutdown();
  logger->info("recondbd stopped");
  return 0;
}
