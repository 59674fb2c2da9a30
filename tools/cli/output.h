// Output of the CLI: aligned text tables for people, proto3 JSON (one object
// per line) with --json for programs.
#ifndef RECONDB_TOOLS_CLI_OUTPUT_H_
#define RECONDB_TOOLS_CLI_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"

namespace recondb::cli {

// Columns separated by two spaces, padded to the widest cell (in code
// points), header first.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// The compact proto3 JSON form of `message` (DESIGN.md's record form).
std::string ToJson(const google::protobuf::Message& message);
// Writes ToJson(message) and a newline.
void PrintJson(std::ostream& out, const google::protobuf::Message& message);

// The attribute names of `record` in `table`'s column order (columns the
// table does not know, if any, after them in name order). `table` may be
// null: name order.
std::vector<std::string> AttributeOrder(const v1::Record& record, const v1::Table* table);

// One record as "field: value" lines.
void PrintRecordText(std::ostream& out, const v1::Record& record, const v1::Table* table);

// Records as a table: ID, REVISION, then one column per table column.
void PrintRecordsText(std::ostream& out, const std::vector<v1::Record>& records,
                      const v1::Table& table);

}  // namespace recondb::cli

#endif  // RECONDB_TOOLS_CLI_OUTPUT_H_
