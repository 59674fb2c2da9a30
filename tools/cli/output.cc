#include "tools/cli/output.h"

#include <algorithm>
#include <set>

#include "google/protobuf/util/json_util.h"
#include "tools/cli/values.h"

namespace recondb::cli {
namespace {

// Code points of UTF-8 `s` (continuation bytes are not counted).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

void TextTable::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - Width(row[i]) + 2, ' ');
    }
    out << line << "\n";
  }
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  // Only fails for messages with unknown Any types, which the API has none of.
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

void PrintJson(std::ostream& out, const google::protobuf::Message& message) {
  out << ToJson(message) << "\n";
}

std::vector<std::string> AttributeOrder(const v1::Record& record, const v1::Table* table) {
  std::vector<std::string> order;
  std::set<std::string> rest;
  for (const auto& [name, value] : record.attributes()) rest.insert(name);
  if (table != nullptr) {
    for (const v1::Column& c : table->columns()) {
      if (rest.erase(c.name()) > 0) order.push_back(c.name());
    }
  }
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

void PrintRecordText(std::ostream& out, const v1::Record& record, const v1::Table* table) {
  TextTable t({"table:", record.table()});
  t.AddRow({"id:", record.id()});
  t.AddRow({"revision:", record.revision()});
  if (record.deleted()) t.AddRow({"deleted:", "true"});
  for (const std::string& name : AttributeOrder(record, table)) {
    t.AddRow({name + ":", FormatValue(record.attributes().at(name))});
  }
  if (record.conflicted()) t.AddRow({"conflicted:", "true"});
  for (const std::string& c : record.conflicts()) t.AddRow({"conflict:", c});
  for (const std::string& c : record.deleted_conflicts()) t.AddRow({"deleted conflict:", c});
  t.Print(out);
}

void PrintRecordsText(std::ostream& out, const std::vector<v1::Record>& records,
                      const v1::Table& table) {
  std::vector<std::string> header = {"ID", "REVISION", "CONFLICTED"};
  for (const v1::Column& c : table.columns()) header.push_back(c.name());
  TextTable t(std::move(header));
  for (const v1::Record& r : records) {
    std::vector<std::string> row = {r.id(), r.revision(), r.conflicted() ? "yes" : "no"};
    for (const v1::Column& c : table.columns()) {
      auto it = r.attributes().find(c.name());
      row.push_back(it == r.attributes().end() ? "" : FormatValue(it->second));
    }
    t.AddRow(std::move(row));
  }
  t.Print(out);
}

}  // namespace recondb::cli
