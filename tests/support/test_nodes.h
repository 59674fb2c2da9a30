// Stores and engines for unit tests, on either backend: the one copy of the
// "memory or SQLite by test parameter" set-up of the engine, reconciler and
// storage tests.
//
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, ::testing::ValuesIn(kBackends));
//   ASSERT_OK_AND_ASSIGN(TestNode node, OpenTestNode(GetParam(), dir_));
#ifndef RECONDB_TESTS_SUPPORT_TEST_NODES_H_
#define RECONDB_TESTS_SUPPORT_TEST_NODES_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "storage/storage.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {

// The backends a parameterized test runs over, by name.
inline constexpr const char* kBackends[] = {"memory", "sqlite"};

// A fresh, empty store: "memory", or "sqlite" on the file `<name>.sqlite3`
// of `dir` with the default options (full durability). INVALID_ARGUMENT for
// another backend name; the backend's error if it cannot open.
absl::StatusOr<std::unique_ptr<storage::Storage>> OpenTestStorage(std::string_view backend,
                                                                  const TempDir& dir,
                                                                  std::string_view name = "db");

// A store and the engine over it (the engine borrows the store: keep both).
struct TestNode {
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<engine::Engine> engine;
};

// An engine opened over `storage` with `options` (whose storage field is
// set here; the rest as given: clock, logger, limits).
absl::StatusOr<TestNode> OpenTestNode(std::unique_ptr<storage::Storage> storage,
                                      engine::EngineOptions options = {});
// The same over OpenTestStorage(backend, dir, name).
absl::StatusOr<TestNode> OpenTestNode(std::string_view backend, const TempDir& dir,
                                      std::string_view name = "db",
                                      engine::EngineOptions options = {});

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_TEST_NODES_H_
