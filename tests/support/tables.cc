#include "tests/support/tables.h"

#include <string>

namespace recondb::testing {

v1::Column* AddColumn(v1::Table& table, std::string_view name, v1::ColumnType type, bool indexed) {
  v1::Column* column = table.add_columns();
  column->set_name(std::string(name));
  column->set_type(type);
  column->set_nullable(true);
  column->set_indexed(indexed);
  return column;
}

v1::Table TodosTable() {
  v1::Table t;
  t.set_name("todos");
  AddColumn(t, "title", v1::COLUMN_TYPE_STRING)->set_max_length(80);
  t.mutable_columns(0)->set_nullable(false);
  AddColumn(t, "description", v1::COLUMN_TYPE_STRING);
  v1::Column* completed = AddColumn(t, "completed", v1::COLUMN_TYPE_BOOL);
  completed->set_nullable(false);
  completed->mutable_default_value()->set_bool_(false);
  return t;
}

v1::Record TodoRecord(std::string_view id, std::string_view title, std::string_view revision) {
  v1::Record r;
  r.set_table("todos");
  r.set_id(std::string(id));
  r.set_revision(std::string(revision));
  (*r.mutable_attributes())["title"].set_string(std::string(title));
  return r;
}

v1::Table NotesTable() {
  v1::Table t;
  t.set_name("notes");
  AddColumn(t, "text", v1::COLUMN_TYPE_STRING)->set_nullable(false);
  AddColumn(t, "rank", v1::COLUMN_TYPE_INT);
  return t;
}

}  // namespace recondb::testing
