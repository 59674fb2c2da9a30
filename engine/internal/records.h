// Small conversions between stored revisions and API records.
#ifndef RECONDB_ENGINE_INTERNAL_RECORDS_H_
#define RECONDB_ENGINE_INTERNAL_RECORDS_H_

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "recondb/v1/types.pb.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

// `record "<id>" of table "<table>"`, the way every message names a record.
inline std::string RecordName(std::string_view table, std::string_view id) {
  return absl::StrCat("record \"", Sv(id), "\" of table \"", Sv(table), "\"");
}

inline v1::Record ToRecord(std::string_view table, std::string_view id,
                           const storage::StoredRevision& rev) {
  v1::Record record;
  record.set_table(std::string(table));
  record.set_id(std::string(id));
  record.set_revision(rev.revision);
  record.set_deleted(rev.deleted);
  for (const auto& [name, value] : rev.attributes) (*record.mutable_attributes())[name] = value;
  return record;
}

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_RECORDS_H_
