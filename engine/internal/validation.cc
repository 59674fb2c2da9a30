#include "engine/internal/validation.h"

#include <cmath>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace recondb::engine::internal {
namespace {

constexpr int kMaxColumns = 256;
constexpr size_t kMaxIdBytes = 255;
// Proto Timestamp's range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

// Names a record's own fields; a column so named would be ambiguous in the
// view and in JSON.
const std::set<std::string_view>& ReservedColumnNames() {
  static const auto* names = new std::set<std::string_view>{
      "id", "revision", "deleted", "parent", "generation", "seq",
      "leaf", "conflicts", "attributes", "table", "rowid", "oid"};
  return *names;
}

std::string Quote(std::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(Sv(s.substr(0, 100))), s.size() > 100 ? "...\"" : "\"");
}

absl::Status BadValue(std::string_view table, const v1::Column& column, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("column ", Quote(column.name()), " of table ", Quote(table), ": ", Sv(why)));
}

// "a string", "an int": for messages.
std::string Article(v1::Value::KindCase kind) {
  const std::string_view name = KindName(kind);
  return absl::StrCat(name[0] == 'i' ? "an " : "a ", Sv(name));
}

}  // namespace

absl::Status ValidateColumnName(std::string_view table, std::string_view column) {
  if (!IsIdentifier(column)) {
    return absl::InvalidArgumentError(absl::StrCat("column name ", Quote(column), " of table ",
                                                   Quote(table), " is invalid: it must match ",
                                                   Sv(kIdentifierPattern)));
  }
  if (ReservedColumnNames().count(column)) {
    return absl::InvalidArgumentError(
        absl::StrCat("column name ", Quote(column), " of table ", Quote(table),
                     " is reserved for the record's own fields"));
  }
  return absl::OkStatus();
}

bool IsValidUtf8(std::string_view s, int64_t* code_points) {
  int64_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
    ++count;
  }
  if (code_points != nullptr) *code_points = count;
  return true;
}

absl::Status ValidateRecordId(std::string_view table, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat("record id ", Quote(id), " of table ",
                                                   Quote(table), " must be 1 to 255 bytes"));
  }
  if (!IsValidUtf8(id, nullptr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("record id ", Quote(id), " of table ", Quote(table), " is not valid UTF-8"));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    const bool c1_control = c == 0xc2 && i + 1 < id.size() &&
                            static_cast<unsigned char>(id[i + 1]) >= 0x80 &&
                            static_cast<unsigned char>(id[i + 1]) <= 0x9f;
    if (c < 0x20 || c == 0x7f || c1_control) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record id ", Quote(id), " of table ", Quote(table), " contains a control character"));
    }
  }
  return absl::OkStatus();
}

v1::Value::KindCase KindOf(v1::ColumnType type) {
  switch (type) {
    case v1::COLUMN_TYPE_STRING: return v1::Value::kString;
    case v1::COLUMN_TYPE_INT: return v1::Value::kInt;
    case v1::COLUMN_TYPE_FLOAT: return v1::Value::kFloat;
    case v1::COLUMN_TYPE_BOOL: return v1::Value::kBool;
    case v1::COLUMN_TYPE_TIMESTAMP: return v1::Value::kTimestamp;
    case v1::COLUMN_TYPE_BYTES: return v1::Value::kBytes;
    default: return v1::Value::KIND_NOT_SET;
  }
}

std::string_view KindName(v1::Value::KindCase kind) {
  switch (kind) {
    case v1::Value::kNull: return "null";
    case v1::Value::kString: return "string";
    case v1::Value::kInt: return "int";
    case v1::Value::kFloat: return "float";
    case v1::Value::kBool: return "bool";
    case v1::Value::kTimestamp: return "timestamp";
    case v1::Value::kBytes: return "bytes";
    case v1::Value::KIND_NOT_SET: return "no kind";
  }
  return "unknown";
}

absl::StatusOr<v1::Value> NormalizeValue(std::string_view table, const v1::Column& column,
                                         const v1::Value& value) {
  const auto kind = value.kind_case();
  if (kind == v1::Value::kNull || kind == v1::Value::KIND_NOT_SET) {
    if (!column.nullable()) return BadValue(table, column, "null is not allowed (not nullable)");
    v1::Value null_value;
    null_value.set_null(google::protobuf::NULL_VALUE);
    return null_value;
  }
  const auto expected = KindOf(column.type());
  if (kind != expected) {
    return BadValue(table, column, absl::StrCat("expected ", Article(expected), " value, got ",
                                                Article(kind), " value"));
  }
  v1::Value out = value;
  switch (kind) {
    case v1::Value::kString: {
      int64_t code_points = 0;
      if (!IsValidUtf8(value.string(), &code_points)) {
        return BadValue(table, column, "string is not valid UTF-8");
      }
      if (column.max_length() > 0 && code_points > column.max_length()) {
        return BadValue(table, column,
                        absl::StrCat("string of ", code_points, " characters is over max_length ",
                                     column.max_length()));
      }
      break;
    }
    case v1::Value::kBytes:
      if (column.max_length() > 0 &&
          static_cast<int64_t>(value.bytes().size()) > column.max_length()) {
        return BadValue(table, column,
                        absl::StrCat(value.bytes().size(), " bytes is over max_length ",
                                     column.max_length()));
      }
      break;
    case v1::Value::kFloat:
      if (!std::isfinite(value.float_())) {
        return BadValue(table, column, absl::StrCat("float ", value.float_(), " is not finite"));
      }
      if (value.float_() == 0.0) out.set_float_(0.0);  // -0.0 and 0.0 are one value.
      break;
    case v1::Value::kTimestamp: {
      const auto& ts = value.timestamp();
      if (ts.nanos() < 0 || ts.nanos() > 999999999) {
        return BadValue(table, column,
                        absl::StrCat("timestamp nanos ", ts.nanos(), " is outside 0..999999999"));
      }
      if (ts.seconds() < kMinSeconds || ts.seconds() > kMaxSeconds) {
        return BadValue(table, column,
                        absl::StrCat("timestamp {seconds: ", ts.seconds(), ", nanos: ", ts.nanos(),
                                     "} is outside 0001-01-01..9999-12-31"));
      }
      out.mutable_timestamp()->set_nanos(ts.nanos() / 1000 * 1000);
      break;
    }
    default:
      break;
  }
  return out;
}

absl::StatusOr<v1::Table> ValidateTableDefinition(const v1::Table& table) {
  RETURN_IF_ERROR(ValidateTableName(table.name()));
  if (table.columns_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", Quote(table.name()), " must have at least one column"));
  }
  if (table.columns_size() > kMaxColumns) {
    return absl::InvalidArgumentError(absl::StrCat("table ", Quote(table.name()), " has ",
                                                   table.columns_size(), " columns; at most ",
                                                   kMaxColumns, " are allowed"));
  }
  v1::Table out;
  out.set_name(table.name());
  std::set<std::string> seen;
  for (const v1::Column& column : table.columns()) {
    RETURN_IF_ERROR(ValidateColumnName(table.name(), column.name()));
    if (!seen.insert(column.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("column ", Quote(column.name()),
                                                     " appears twice in table ",
                                                     Quote(table.name())));
    }
    if (KindOf(column.type()) == v1::Value::KIND_NOT_SET) {
      return BadValue(table.name(), column, "type must be one of the COLUMN_TYPE_* values");
    }
    const bool sized = column.type() == v1::COLUMN_TYPE_STRING ||
                       column.type() == v1::COLUMN_TYPE_BYTES;
    if (column.max_length() < 0 || (column.max_length() > 0 && !sized)) {
      return BadValue(table.name(), column,
                      "max_length must be positive and is only for string or bytes columns");
    }
    v1::Column* normalized = out.add_columns();
    *normalized = column;
    if (column.has_default_value()) {
      const auto kind = column.default_value().kind_case();
      if (kind == v1::Value::kNull || kind == v1::Value::KIND_NOT_SET) {
        normalized->clear_default_value();  // Null is what "no default" means.
        if (!column.nullable()) {
          return BadValue(table.name(), column, "a null default needs a nullable column");
        }
      } else {
        auto value = NormalizeValue(table.name(), column, column.default_value());
        if (!value.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("default_value: ", value.status().message()));
        }
        *normalized->mutable_default_value() = *std::move(value);
      }
    }
  }
  return out;
}

absl::Status CheckFilterSize(int conditions) {
  if (conditions <= kMaxFilterConditions) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "filter has ", conditions, " conditions, over the limit of ", kMaxFilterConditions));
}

absl::Status CheckTableFilterSize(size_t tables) {
  if (tables <= static_cast<size_t>(kMaxTableFilter)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("tables has ", tables, " table names, over the limit of ", kMaxTableFilter));
}

absl::Status CheckNoOutputOnlyFields(const v1::Record& record) {
  const char* field = nullptr;
  if (record.conflicts_size() > 0) {
    field = "record.conflicts";
  } else if (record.conflict_records_size() > 0) {
    field = "record.conflict_records";
  } else if (record.deleted_conflicts_size() > 0) {
    field = "record.deleted_conflicts";
  } else if (record.conflicted()) {
    field = "record.conflicted";
  }
  if (field == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " is output only and must be empty"));
}

}  // namespace recondb::engine::internal
