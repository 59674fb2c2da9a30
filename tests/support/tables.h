// Table definitions and records that unit tests of several modules share
// (engine, reconciler, storage): one copy of each shape.
#ifndef RECONDB_TESTS_SUPPORT_TABLES_H_
#define RECONDB_TESTS_SUPPORT_TABLES_H_

#include <string_view>

#include "recondb/v1/types.pb.h"

namespace recondb::testing {

// Appends a nullable column `name` of `type` to `table` (indexed if asked)
// and returns it, for the caller to set more (a default, a max length).
v1::Column* AddColumn(v1::Table& table, std::string_view name, v1::ColumnType type,
                      bool indexed = false);

// "todos" as the engine tests know it: title (string, at most 80, not
// null), description (nullable string), completed (bool, default false).
v1::Table TodosTable();
// A record of "todos" with a title, and `revision` (empty: a create).
v1::Record TodoRecord(std::string_view id, std::string_view title, std::string_view revision = "");

// The table random histories write: "notes" (text string, rank nullable
// int).
v1::Table NotesTable();

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_TABLES_H_
