#include "tools/cli/values.h"

#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/strings.h"

namespace recondb::cli {
namespace {

absl::Status Bad(std::string_view what, std::string_view text, std::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad value for ", Sv(what), ": \"", Sv(text), "\" is not ", Sv(expected)));
}

absl::StatusOr<v1::ColumnType> ParseType(std::string_view name) {
  for (int t = v1::COLUMN_TYPE_STRING; t <= v1::COLUMN_TYPE_BYTES; ++t) {
    if (TypeName(static_cast<v1::ColumnType>(t)) == name) return static_cast<v1::ColumnType>(t);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown column type \"", Sv(name), "\" (string, int, float, bool, timestamp, bytes)"));
}

}  // namespace

std::string TypeName(v1::ColumnType type) {
  switch (type) {
    case v1::COLUMN_TYPE_STRING:
      return "string";
    case v1::COLUMN_TYPE_INT:
      return "int";
    case v1::COLUMN_TYPE_FLOAT:
      return "float";
    case v1::COLUMN_TYPE_BOOL:
      return "bool";
    case v1::COLUMN_TYPE_TIMESTAMP:
      return "timestamp";
    case v1::COLUMN_TYPE_BYTES:
      return "bytes";
    default:
      return "unspecified";
  }
}

const v1::Column* FindColumn(const v1::Table& table, std::string_view name) {
  for (const v1::Column& c : table.columns()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

absl::StatusOr<v1::Value> ParseValue(v1::ColumnType type, std::string_view text,
                                     std::string_view what) {
  v1::Value v;
  const absl::string_view t = Sv(text);
  switch (type) {
    case v1::COLUMN_TYPE_STRING:
      v.set_string(std::string(text));
      return v;
    case v1::COLUMN_TYPE_INT: {
      int64_t i;
      if (!absl::SimpleAtoi(t, &i)) return Bad(what, text, "a 64-bit integer");
      v.set_int_(i);
      return v;
    }
    case v1::COLUMN_TYPE_FLOAT: {
      double d;
      if (!absl::SimpleAtod(t, &d) || !std::isfinite(d)) return Bad(what, text, "a finite number");
      v.set_float_(d);
      return v;
    }
    case v1::COLUMN_TYPE_BOOL: {
      const std::string lower = absl::AsciiStrToLower(t);
      if (lower == "true" || lower == "1" || lower == "yes") {
        v.set_bool_(true);
      } else if (lower == "false" || lower == "0" || lower == "no") {
        v.set_bool_(false);
      } else {
        return Bad(what, text, "a bool (true or false)");
      }
      return v;
    }
    case v1::COLUMN_TYPE_TIMESTAMP: {
      absl::Time time;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, t, &time, &error)) {
        return Bad(what, text, "an RFC 3339 timestamp (2026-01-01T00:00:00Z)");
      }
      const int64_t micros = absl::ToUnixMicros(time);
      int64_t seconds = micros / 1000000, rest = micros % 1000000;
      if (rest < 0) rest += 1000000, --seconds;
      v.mutable_timestamp()->set_seconds(seconds);
      v.mutable_timestamp()->set_nanos(static_cast<int32_t>(rest * 1000));
      return v;
    }
    case v1::COLUMN_TYPE_BYTES: {
      std::string bytes;
      if (!absl::Base64Unescape(t, &bytes)) return Bad(what, text, "base64");
      v.set_bytes(bytes);
      return v;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("column ", Sv(what), " has no type"));
  }
}

std::string FormatValue(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kString:
      return value.string();
    case v1::Value::kInt:
      return absl::StrCat(value.int_());
    case v1::Value::kFloat: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value.float_());
      return std::string(buf, end);
    }
    case v1::Value::kBool:
      return value.bool_() ? "true" : "false";
    case v1::Value::kTimestamp: {
      const absl::Time t = absl::FromUnixSeconds(value.timestamp().seconds()) +
                           absl::Nanoseconds(value.timestamp().nanos());
      return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
    }
    case v1::Value::kBytes:
      return absl::Base64Escape(value.bytes());
    default:
      return "null";
  }
}

absl::StatusOr<v1::Column> ParseColumnSpec(std::string_view spec) {
  v1::Column column;
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --column \"", Sv(spec), "\": expected NAME:TYPE[,options]"));
  }
  column.set_name(std::string(spec.substr(0, colon)));
  std::string_view rest = spec.substr(colon + 1);
  const size_t comma = rest.find(',');
  auto type = ParseType(rest.substr(0, comma));
  if (!type.ok()) return type.status();
  column.set_type(*type);
  rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  while (!rest.empty()) {
    if (absl::StartsWith(Sv(rest), "default=")) {
      auto v =
          ParseValue(column.type(), rest.substr(8), absl::StrCat("default of ", column.name()));
      if (!v.ok()) return v.status();
      *column.mutable_default_value() = *v;
      break;
    }
    const size_t next = rest.find(',');
    const std::string_view option = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    int max = 0;
    if (option == "nullable") {
      column.set_nullable(true);
    } else if (option == "indexed") {
      column.set_indexed(true);
    } else if (absl::StartsWith(Sv(option), "max=") &&
               absl::SimpleAtoi(Sv(option.substr(4)), &max)) {
      column.set_max_length(max);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("bad option \"", Sv(option), "\" in --column ",
                                                     Sv(spec),
                                                     " (nullable, indexed, max=N, default=VALUE)"));
    }
  }
  return column;
}

absl::StatusOr<v1::Condition> ParseCondition(const v1::Table& table, std::string_view text) {
  absl::string_view rest = absl::StripAsciiWhitespace(Sv(text));
  size_t n = 0;
  while (n < rest.size() && (absl::ascii_isalnum(rest[n]) || rest[n] == '_')) ++n;
  v1::Condition cond;
  cond.set_column(std::string(rest.substr(0, n)));
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(n));
  v1::ColumnType type = v1::COLUMN_TYPE_STRING;  // "id"
  if (cond.column() != "id") {
    const v1::Column* column = FindColumn(table, cond.column());
    if (column == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("bad --where \"", Sv(text), "\": table ",
                                                     table.name(), " has no column \"",
                                                     cond.column(), "\""));
    }
    type = column->type();
  }
  const std::string lower = absl::AsciiStrToLower(rest);
  if (lower == "is null") {
    cond.set_op(v1::OPERATOR_IS_NULL);
    return cond;
  }
  if (lower == "is not null") {
    cond.set_op(v1::OPERATOR_IS_NOT_NULL);
    return cond;
  }
  static const std::pair<const char*, v1::Operator> kOps[] = {
      {"==", v1::OPERATOR_EQ}, {"!=", v1::OPERATOR_NE}, {"<=", v1::OPERATOR_LE},
      {">=", v1::OPERATOR_GE}, {"=", v1::OPERATOR_EQ},  {"<", v1::OPERATOR_LT},
      {">", v1::OPERATOR_GT}};
  for (const auto& [symbol, op] : kOps) {
    if (absl::ConsumePrefix(&rest, symbol)) {
      cond.set_op(op);
      const absl::string_view text_value = absl::StripAsciiWhitespace(rest);
      auto value = ParseValue(type, StdSv(text_value), cond.column());
      if (!value.ok()) return value.status();
      *cond.mutable_value() = *value;
      return cond;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad --where \"", Sv(text),
                   "\": expected COLUMN OP VALUE (= != < <= > >=) or COLUMN is [not] null"));
}

}  // namespace recondb::cli
