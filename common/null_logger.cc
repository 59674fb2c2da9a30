#include "common/null_logger.h"

#include <utility>

#include "spdlog/sinks/null_sink.h"

namespace recondb {

std::shared_ptr<spdlog::logger> NullLogger(std::string name) {
  return std::make_shared<spdlog::logger>(std::move(name),
                                          std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace recondb
