#include "engine/internal/attributes.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/internal/validation.h"
#include "google/protobuf/util/message_differencer.h"

namespace recondb::engine::internal {
namespace {

absl::Status NoSuchColumn(const v1::Table& table, std::string_view column, std::string_view where) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(where), ": table \"", table.name(),
                                                 "\" has no column \"", Sv(column.substr(0, 100)),
                                                 "\""));
}

bool HasColumn(const v1::Table& table, const std::string& name) {
  for (const auto& column : table.columns()) {
    if (column.name() == name) return true;
  }
  return false;
}

absl::StatusOr<v1::Value> DefaultOrNull(const v1::Table& table, const v1::Column& column) {
  return NormalizeValue(table.name(), column,
                        column.has_default_value() ? column.default_value() : v1::Value());
}

}  // namespace

absl::StatusOr<storage::Attributes> BuildAttributes(const v1::Table& table,
                                                    const RequestAttributes& request,
                                                    const google::protobuf::FieldMask* mask,
                                                    const storage::Attributes* base) {
  for (const auto& [name, value] : request) {
    if (!HasColumn(table, name)) return NoSuchColumn(table, name, "attributes");
  }
  std::set<std::string> masked;
  const bool partial = mask != nullptr && mask->paths_size() > 0;
  if (partial) {
    for (const std::string& path : mask->paths()) {
      if (!HasColumn(table, path)) return NoSuchColumn(table, path, "update_mask");
      masked.insert(path);
    }
  }
  storage::Attributes out;
  for (const v1::Column& column : table.columns()) {
    const bool from_request = !partial || masked.count(column.name()) > 0;
    absl::StatusOr<v1::Value> value;
    if (from_request) {
      auto it = request.find(column.name());
      value = it != request.end() ? NormalizeValue(table.name(), column, it->second)
                                  : DefaultOrNull(table, column);
    } else if (base != nullptr && base->count(column.name())) {
      value = base->at(column.name());
    } else {
      value = DefaultOrNull(table, column);
    }
    if (!value.ok()) return value.status();
    out.emplace(column.name(), *std::move(value));
  }
  return out;
}

absl::StatusOr<storage::Attributes> NormalizeHeldAttributes(const v1::Table& table,
                                                            std::string_view id,
                                                            const storage::Attributes& attributes) {
  for (const auto& [name, value] : attributes) {
    if (!HasColumn(table, name)) return NoSuchColumn(table, name, absl::StrCat("record ", Sv(id)));
  }
  // The attributes name only columns, so they are the first k exactly when
  // each of the first k is there.
  const int held = static_cast<int>(attributes.size());
  storage::Attributes out;
  for (int i = 0; i < held; ++i) {
    const v1::Column& column = table.columns(i);
    auto it = attributes.find(column.name());
    if (it == attributes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record \"", Sv(id), "\" of table \"", table.name(), "\" lacks column \"", column.name(),
          "\" but holds a later one: a revision holds the first columns of its "
          "table, those it had when the revision was written"));
    }
    ASSIGN_OR_RETURN(v1::Value normalized, NormalizeValue(table.name(), column, it->second));
    // MessageDifferencer compares doubles with ==, so -0.0 equals its
    // normalized 0.0: the one change normalization may make here.
    if (!google::protobuf::util::MessageDifferencer::Equals(normalized, it->second)) {
      return absl::InvalidArgumentError(
          absl::StrCat("record \"", Sv(id), "\" of table \"", table.name(), "\": column \"",
                       column.name(), "\" holds a value that is not in canonical form"));
    }
    out.emplace(column.name(), std::move(normalized));
  }
  return out;
}

storage::Attributes FillColumns(const v1::Table& table, const storage::Attributes& held) {
  storage::Attributes out = held;
  for (const v1::Column& column : table.columns()) {
    if (out.count(column.name())) continue;
    v1::Value& value = out[column.name()];
    if (column.has_default_value()) {
      value = column.default_value();  // Normalized when the column was defined.
    } else {
      value.set_null(google::protobuf::NULL_VALUE);
    }
  }
  return out;
}

absl::Status CheckAdditiveColumn(std::string_view table, const v1::Column& column) {
  if (column.nullable() || column.has_default_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "column \"", column.name(), "\" cannot be added to table \"", Sv(table),
      "\": it is not nullable and has no default, and the records written before it have no "
      "value for it (make it nullable or give it a default)"));
}

}  // namespace recondb::engine::internal
