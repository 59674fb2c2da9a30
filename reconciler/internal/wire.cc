#include "reconciler/internal/wire.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/revision.h"

namespace recondb::reconciler::internal {
namespace {

v1::RevisionAudit AuditToWire(const storage::RevisionAudit& audit) {
  v1::RevisionAudit out;
  out.set_author(audit.author);
  out.set_origin_node(audit.origin_node);
  out.set_create_time_micros(audit.create_time_micros);
  return out;
}

storage::RevisionAudit AuditFromWire(const v1::RevisionAudit& audit) {
  return storage::RevisionAudit{audit.author(), audit.origin_node(), audit.create_time_micros()};
}

}  // namespace

v1::RecordSummary ToWire(const engine::ChangedRecord& record, bool with_audit) {
  v1::RecordSummary out;
  out.set_table(record.table);
  out.set_id(record.id);
  for (const auto& leaf : record.leaves) out.add_leaves(leaf);
  if (with_audit) {
    for (const auto& audit : record.leaf_audits) *out.add_leaf_audits() = AuditToWire(audit);
  }
  return out;
}

engine::ChangedRecord FromWire(const v1::RecordSummary& record, bool with_audit) {
  engine::ChangedRecord out{record.table(), record.id(),
                            {record.leaves().begin(), record.leaves().end()}, {}};
  if (with_audit) {
    for (const auto& audit : record.leaf_audits()) out.leaf_audits.push_back(AuditFromWire(audit));
  }
  return out;
}

v1::RecordWant ToWire(const engine::RevisionWant& want) {
  v1::RecordWant out;
  out.set_table(want.table);
  out.set_id(want.id);
  for (const auto& r : want.missing) out.add_missing(r);
  for (const auto& r : want.known_leaves) out.add_known_leaves(r);
  return out;
}

engine::RevisionWant FromWire(const v1::RecordWant& want) {
  return engine::RevisionWant{want.table(),
                              want.id(),
                              {want.missing().begin(), want.missing().end()},
                              {want.known_leaves().begin(), want.known_leaves().end()}};
}

v1::RevisionBody ToWire(const engine::ForeignRevision& revision, bool with_audit) {
  v1::RevisionBody out;
  out.set_table(revision.table);
  out.set_id(revision.rev.id);
  out.set_revision(revision.rev.revision);
  out.set_parent(revision.rev.parent);
  out.set_deleted(revision.rev.deleted);
  out.set_stub(revision.rev.stub);
  for (const auto& [name, value] : revision.rev.attributes) (*out.mutable_attributes())[name] = value;
  if (with_audit && revision.rev.audit.known()) *out.mutable_audit() = AuditToWire(revision.rev.audit);
  return out;
}

absl::StatusOr<engine::ForeignRevision> FromWire(const v1::RevisionBody& body, bool with_audit) {
  auto parsed = engine::ParseRevision(body.revision());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("revision of record \"", body.id(),
                                                   "\" of table \"", body.table(),
                                                   "\": ", parsed.status().message()));
  }
  engine::ForeignRevision out;
  out.table = body.table();
  out.rev.id = body.id();
  out.rev.revision = body.revision();
  out.rev.parent = body.parent();
  out.rev.generation = parsed->generation;
  out.rev.deleted = body.deleted();
  out.rev.stub = body.stub();
  for (const auto& [name, value] : body.attributes()) out.rev.attributes[name] = value;
  if (with_audit && body.has_audit()) out.rev.audit = AuditFromWire(body.audit());
  return out;
}

}  // namespace recondb::reconciler::internal
