#include "storage/internal/sqlite_values.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace recondb::storage::internal {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of
// google.protobuf.Timestamp and of the four-digit year.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant,
// "chrono-Compatible Low-Level Date Algorithms").
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

// Writes `value` as exactly `width` decimal digits.
void PutDigits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Reads exactly `width` decimal digits; -1 if one is not a digit.
int64_t GetDigits(std::string_view text, size_t pos, int width) {
  int64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

absl::Status KindMismatch(const v1::Value& value, v1::ColumnType type, std::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat("column ", std::string(column), " holds ", v1::ColumnType_Name(type),
                   ", not a value of kind ", static_cast<int>(value.kind_case())));
}

}  // namespace

absl::StatusOr<std::string_view> SqlType(v1::ColumnType type, std::string_view column) {
  switch (type) {
    case v1::COLUMN_TYPE_STRING:
    case v1::COLUMN_TYPE_TIMESTAMP:
      return std::string_view("TEXT");
    case v1::COLUMN_TYPE_INT:
    case v1::COLUMN_TYPE_BOOL:
      return std::string_view("INTEGER");
    case v1::COLUMN_TYPE_FLOAT:
      return std::string_view("REAL");
    case v1::COLUMN_TYPE_BYTES:
      return std::string_view("BLOB");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("column ", std::string(column), " has no valid type"));
  }
}

absl::Status FormatTimestamp(const google::protobuf::Timestamp& ts, char* out) {
  const int64_t seconds = ts.seconds();
  if (seconds < kMinSeconds || seconds > kMaxSeconds || ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp out of range: ", seconds, "s ", ts.nanos(), "ns"));
  }
  // Floor division: seconds before 1970 belong to the day that starts earlier.
  int64_t days = seconds / kSecondsPerDay;
  int64_t second_of_day = seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  PutDigits(out, date.year, 4);
  out[4] = '-';
  PutDigits(out + 5, date.month, 2);
  out[7] = '-';
  PutDigits(out + 8, date.day, 2);
  out[10] = 'T';
  PutDigits(out + 11, second_of_day / 3600, 2);
  out[13] = ':';
  PutDigits(out + 14, second_of_day / 60 % 60, 2);
  out[16] = ':';
  PutDigits(out + 17, second_of_day % 60, 2);
  out[19] = '.';
  PutDigits(out + 20, ts.nanos() / 1000, 6);
  out[26] = 'Z';
  return absl::OkStatus();
}

absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(std::string_view text) {
  auto malformed = [&] {
    return absl::InvalidArgumentError(absl::StrCat("malformed timestamp text \"", Sv(text), "\""));
  };
  if (text.size() != kTimestampTextSize || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text[19] != '.' || text[26] != 'Z') {
    return malformed();
  }
  const int64_t year = GetDigits(text, 0, 4), month = GetDigits(text, 5, 2),
                day = GetDigits(text, 8, 2), hour = GetDigits(text, 11, 2),
                minute = GetDigits(text, 14, 2), second = GetDigits(text, 17, 2),
                micros = GetDigits(text, 20, 6);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 59 || micros < 0) {
    return malformed();
  }
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const CivilDate check = CivilFromDays(days);
  if (check.month != month || check.day != day) return malformed();  // E.g. 02-30.
  google::protobuf::Timestamp ts;
  ts.set_seconds(days * kSecondsPerDay + hour * 3600 + minute * 60 + second);
  ts.set_nanos(static_cast<int32_t>(micros * 1000));
  return ts;
}

absl::Status BindValue(Statement& stmt, int index, const v1::Value& value, v1::ColumnType type,
                       std::string_view column) {
  switch (value.kind_case()) {
    case v1::Value::kNull:
    case v1::Value::KIND_NOT_SET:
      stmt.BindNull(index);
      return absl::OkStatus();
    case v1::Value::kString:
      if (type != v1::COLUMN_TYPE_STRING) break;
      stmt.BindText(index, value.string());
      return absl::OkStatus();
    case v1::Value::kInt:
      if (type != v1::COLUMN_TYPE_INT) break;
      stmt.BindInt(index, value.int_());
      return absl::OkStatus();
    case v1::Value::kFloat:
      if (type != v1::COLUMN_TYPE_FLOAT) break;
      stmt.BindDouble(index, value.float_());
      return absl::OkStatus();
    case v1::Value::kBool:
      if (type != v1::COLUMN_TYPE_BOOL) break;
      stmt.BindInt(index, value.bool_() ? 1 : 0);
      return absl::OkStatus();
    case v1::Value::kTimestamp: {
      if (type != v1::COLUMN_TYPE_TIMESTAMP) break;
      char text[kTimestampTextSize];
      if (absl::Status s = FormatTimestamp(value.timestamp(), text); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("column ", std::string(column), ": ", s.message()));
      }
      stmt.BindTextCopy(index, std::string_view(text, sizeof(text)));
      return absl::OkStatus();
    }
    case v1::Value::kBytes:
      if (type != v1::COLUMN_TYPE_BYTES) break;
      stmt.BindBlob(index, value.bytes());
      return absl::OkStatus();
  }
  return KindMismatch(value, type, column);
}

absl::StatusOr<v1::Value> ReadValue(const Statement& stmt, int index, v1::ColumnType type,
                                    std::string_view column) {
  v1::Value value;
  if (stmt.IsNull(index)) {
    value.set_null(google::protobuf::NULL_VALUE);
    return value;
  }
  switch (type) {
    case v1::COLUMN_TYPE_STRING:
      value.set_string(std::string(stmt.Text(index)));
      break;
    case v1::COLUMN_TYPE_INT:
      value.set_int_(stmt.Int(index));
      break;
    case v1::COLUMN_TYPE_FLOAT:
      value.set_float_(stmt.Double(index));
      break;
    case v1::COLUMN_TYPE_BOOL:
      value.set_bool_(stmt.Int(index) != 0);
      break;
    case v1::COLUMN_TYPE_TIMESTAMP: {
      absl::StatusOr<google::protobuf::Timestamp> ts = ParseTimestamp(stmt.Text(index));
      if (!ts.ok()) {
        return absl::DataLossError(
            absl::StrCat("column ", std::string(column), ": ", ts.status().message()));
      }
      *value.mutable_timestamp() = *std::move(ts);
      break;
    }
    case v1::COLUMN_TYPE_BYTES:
      value.set_bytes(std::string(stmt.Blob(index)));
      break;
    default:
      return absl::InternalError(
          absl::StrCat("column ", std::string(column), " has no valid type"));
  }
  return value;
}

}  // namespace recondb::storage::internal
