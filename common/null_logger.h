// A logger that drops everything: the default of every Options.logger left
// null (libraries never configure the global logger) and the logger of
// tests that do not look at logs.
#ifndef RECONDB_COMMON_NULL_LOGGER_H_
#define RECONDB_COMMON_NULL_LOGGER_H_

#include <memory>
#include <string>

#include "spdlog/logger.h"

namespace recondb {

// A new logger named `name`, over a thread-safe null sink, not registered
// with spdlog.
std::shared_ptr<spdlog::logger> NullLogger(std::string name = "null");

}  // namespace recondb

#endif  // RECONDB_COMMON_NULL_LOGGER_H_
