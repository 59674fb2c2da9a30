// embedded_todo DIR: opens (or creates) a recondb store in DIR with the
// SQLite backend, adds one todo, and lists every todo with its revision.
// The same engine recondbd serves, with no daemon and no gRPC.
#include <cstdio>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"
#include "storage/sqlite_storage.h"

namespace {

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "embedded_todo: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embedded_todo DIR\n");
    return 2;
  }
  namespace v1 = recondb::v1;
  recondb::storage::SqliteOptions options;
  options.path = std::string(argv[1]) + "/todo.sqlite3";
  auto storage = recondb::storage::OpenSqliteStorage(options);
  if (!storage.ok()) return Fail("open storage", storage.status());

  recondb::engine::EngineOptions engine_options;
  engine_options.storage = storage->get();
  auto engine = recondb::engine::Engine::Open(engine_options);
  if (!engine.ok()) return Fail("open engine", engine.status());

  v1::Table table;
  table.set_name("todos");
  v1::Column* title = table.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  auto created = (*engine)->CreateTable(table);
  if (!created.ok() && created.status().code() != absl::StatusCode::kAlreadyExists) {
    return Fail("create table", created.status());
  }

  v1::Record todo;
  todo.set_table("todos");
  (*todo.mutable_attributes())["title"].set_string("Buy milk");
  auto put = (*engine)->PutRecord(todo, /*mask=*/nullptr);
  if (!put.ok()) return Fail("put", put.status());

  v1::ListRecordsRequest list;
  list.set_table("todos");
  auto page = (*engine)->ListRecords(list);
  if (!page.ok()) return Fail("list", page.status());
  for (const v1::Record& record : page->records()) {
    std::printf("%s %s %s\n", record.id().c_str(), record.revision().c_str(),
                record.attributes().at("title").string().c_str());
  }
  return 0;
}
