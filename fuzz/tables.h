// The table the fuzz targets write to: a column of every type, nullable and
// not, with defaults and length limits, so that every value check is
// reachable.
#ifndef RECONDB_FUZZ_TABLES_H_
#define RECONDB_FUZZ_TABLES_H_

#include "recondb/v1/types.pb.h"

namespace recondb::fuzz {

inline v1::Table EveryTypeTable() {
  v1::Table table;
  table.set_name("every");
  auto add = [&](const char* name, v1::ColumnType type, bool nullable) {
    v1::Column* c = table.add_columns();
    c->set_name(name);
    c->set_type(type);
    c->set_nullable(nullable);
    return c;
  };
  add("s", v1::COLUMN_TYPE_STRING, false)->set_max_length(64);
  add("i", v1::COLUMN_TYPE_INT, true)->mutable_default_value()->set_int_(7);
  add("f", v1::COLUMN_TYPE_FLOAT, true);
  add("b", v1::COLUMN_TYPE_BOOL, false)->mutable_default_value()->set_bool_(false);
  add("t", v1::COLUMN_TYPE_TIMESTAMP, true);
  add("y", v1::COLUMN_TYPE_BYTES, true)->set_max_length(16);
  add("m", v1::COLUMN_TYPE_STRING, true)->set_max_length(4);
  return table;
}

}  // namespace recondb::fuzz

#endif  // RECONDB_FUZZ_TABLES_H_
