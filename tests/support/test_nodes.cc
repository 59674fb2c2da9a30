#include "tests/support/test_nodes.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"

namespace recondb::testing {

absl::StatusOr<std::unique_ptr<storage::Storage>> OpenTestStorage(std::string_view backend,
                                                                  const TempDir& dir,
                                                                  std::string_view name) {
  if (backend == "memory") return storage::NewMemoryStorage();
  if (backend == "sqlite") {
    storage::SqliteOptions options;
    options.path = dir.File(absl::StrCat(Sv(name), ".sqlite3"));
    return storage::OpenSqliteStorage(options);
  }
  return absl::InvalidArgumentError(absl::StrCat("no backend ", QuoteInput(backend)));
}

absl::StatusOr<TestNode> OpenTestNode(std::unique_ptr<storage::Storage> storage,
                                      engine::EngineOptions options) {
  TestNode node;
  node.storage = std::move(storage);
  options.storage = node.storage.get();
  ASSIGN_OR_RETURN(node.engine, engine::Engine::Open(std::move(options)));
  return node;
}

absl::StatusOr<TestNode> OpenTestNode(std::string_view backend, const TempDir& dir,
                                      std::string_view name, engine::EngineOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> storage, OpenTestStorage(backend, dir, name));
  return OpenTestNode(std::move(storage), std::move(options));
}

}  // namespace recondb::testing
