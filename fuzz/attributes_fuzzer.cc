// Value and attribute decoding: what the engine does to the attributes of a
// local write (BuildAttributes, NormalizeValue) and of an imported or
// replicated revision (NormalizeHeldAttributes, FillColumns);
// engine/internal/attributes.h.
// Frames: tag 0 a serialized v1::Table (used if ValidateTableDefinition
// accepts it; else a table with a column of every type), tag 1 a serialized
// v1::Record whose attributes are the request, tag 2 a serialized
// google.protobuf.FieldMask, tag 3 a serialized v1::Record whose attributes
// are the parent's (base) and also a foreign revision's held attributes.
// Invariants:
// - BuildAttributes either fails with INVALID_ARGUMENT or yields exactly the
//   table's columns, each of its column's kind (or null if nullable), each
//   already normalized (NormalizeValue leaves it unchanged);
// - what a local write stores, a peer accepts unchanged:
//   NormalizeHeldAttributes of it is OK and equal to it;
// - NormalizeHeldAttributes either fails or yields a normalized prefix of
//   the columns, which FillColumns completes to every column;
// - the canonical encoding of any of these never trips a sanitizer.
#include <cmath>
#include <string>

#include "engine/internal/attributes.h"
#include "engine/internal/validation.h"
#include "engine/revision.h"
#include "fuzz/frames.h"
#include "fuzz/tables.h"
#include "google/protobuf/util/message_differencer.h"

namespace recondb::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;


bool Equal(const storage::Attributes& a, const storage::Attributes& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || !MessageDifferencer::Equals(i->second, j->second)) return false;
  }
  return true;
}

// Every value is its column's and already normalized.
void CheckNormalized(const v1::Table& table, const storage::Attributes& attributes) {
  for (const auto& [name, value] : attributes) {
    const v1::Column* column = nullptr;
    for (const auto& c : table.columns()) {
      if (c.name() == name) column = &c;
    }
    FUZZ_CHECK(column != nullptr, "attribute names no column: " + name);
    if (value.kind_case() == v1::Value::kNull) {
      FUZZ_CHECK(column->nullable(), "null in a non-nullable column " + name);
    } else {
      FUZZ_CHECK(value.kind_case() == engine::internal::KindOf(column->type()),
                 "wrong kind in " + name);
    }
    absl::StatusOr<v1::Value> again = engine::internal::NormalizeValue(table.name(), *column, value);
    FUZZ_CHECK(again.ok(), "a stored value is refused: " + again.status().ToString());
    FUZZ_CHECK(MessageDifferencer::Equals(*again, value), "a stored value is not normalized");
    if (value.kind_case() == v1::Value::kFloat) FUZZ_CHECK(!std::signbit(value.float_()) ||
                                                               value.float_() != 0.0,
                                                           "-0.0 stored");
  }
  storage::Attributes copy = attributes;
  engine::RevisionContent content{table.name(), "id", "", false, &copy};
  (void)engine::ComputeRevision(1, content);
}

}  // namespace
}  // namespace recondb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recondb;
  using fuzz::CheckNormalized;
  static const v1::Table kEveryType = fuzz::EveryTypeTable();
  v1::Table table = kEveryType;
  v1::Record request, base;
  google::protobuf::FieldMask mask;
  bool has_mask = false;
  for (const fuzz::Frame& f : fuzz::SplitFrames(data, size, 16)) {
    switch (f.tag % 4) {
      case 0: {
        v1::Table candidate;
        if (!candidate.ParseFromArray(f.bytes.data(), f.bytes.size())) break;
        absl::StatusOr<v1::Table> valid = engine::internal::ValidateTableDefinition(candidate);
        if (valid.ok()) table = *std::move(valid);
        break;
      }
      case 1: (void)request.ParseFromArray(f.bytes.data(), f.bytes.size()); break;
      case 2: has_mask = mask.ParseFromArray(f.bytes.data(), f.bytes.size()); break;
      case 3: (void)base.ParseFromArray(f.bytes.data(), f.bytes.size()); break;
    }
  }
  const storage::Attributes base_attributes(base.attributes().begin(), base.attributes().end());

  absl::StatusOr<storage::Attributes> built = engine::internal::BuildAttributes(
      table, request.attributes(), has_mask ? &mask : nullptr, &base_attributes);
  if (!built.ok()) {
    FUZZ_CHECK(built.status().code() == absl::StatusCode::kInvalidArgument,
               built.status().ToString());
  } else if (!has_mask || mask.paths_size() == 0) {
    // Without a mask nothing comes from the (unchecked) base.
    FUZZ_CHECK(built->size() == static_cast<size_t>(table.columns_size()), "not every column");
    CheckNormalized(table, *built);
    absl::StatusOr<storage::Attributes> held =
        engine::internal::NormalizeHeldAttributes(table, "id", *built);
    FUZZ_CHECK(held.ok(), "a peer refuses what a local write stores: " + held.status().ToString());
    FUZZ_CHECK(fuzz::Equal(*held, *built), "a peer changes what a local write stores");
  } else {
    FUZZ_CHECK(built->size() == static_cast<size_t>(table.columns_size()), "not every column");
  }

  absl::StatusOr<storage::Attributes> held =
      engine::internal::NormalizeHeldAttributes(table, "id", base_attributes);
  if (held.ok()) {
    FUZZ_CHECK(held->size() == base_attributes.size(), "held size");
    for (int i = 0; i < static_cast<int>(held->size()); ++i) {
      FUZZ_CHECK(held->count(table.columns(i).name()) == 1, "not a prefix of the columns");
    }
    CheckNormalized(table, *held);
    const storage::Attributes filled = engine::internal::FillColumns(table, *held);
    FUZZ_CHECK(filled.size() == static_cast<size_t>(table.columns_size()), "FillColumns");
  } else {
    FUZZ_CHECK(held.status().code() == absl::StatusCode::kInvalidArgument,
               held.status().ToString());
  }
  return 0;
}
