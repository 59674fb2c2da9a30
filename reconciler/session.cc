// The replication session: docs/replication-protocol.md, section by section.
//
// Four threads per session, so that nothing that must keep moving ever waits
// for the network:
//  - the reader dispatches incoming messages: Summaries, Revisions and
//    CaughtUp to the sink (bounded queue: back-pressure on the peer), Want and
//    Ack to the source;
//  - the sink (this node as receiver) diffs, grafts and acknowledges; it only
//    ever enqueues what it sends, so it never blocks on the network;
//  - the source (this node as sender) reads feed pages, answers Wants, keeps
//    at most `window` batches unacknowledged and waits for the engine's change
//    notification when caught up;
//  - the writer sends the outgoing queue in order.
// Run() itself does the handshake and then waits for the end.
#include "reconciler/session.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/null_logger.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/table_names.h"
#include "reconciler/internal/wire.h"

namespace recondb::reconciler {
namespace {

// Incoming messages for the sink buffered before the reader stops reading.
constexpr size_t kSinkQueueLimit = 8;
// Outgoing bytes queued before the source waits for the writer.
constexpr int64_t kOutgoingByteLimit = 8 << 20;
// Records remembered for echo suppression.
constexpr size_t kPeerHasLimit = 200000;

std::string RecordKey(std::string_view table, std::string_view id) {
  return absl::StrCat(Sv(table), std::string(1, '\0'), Sv(id));
}

// What echo suppression compares of a record's leaves, sorted: each leaf's
// id and, `with_audit`, the audit held for it. A record whose audit here
// differs from the peer's is offered back (the peer keeps the better one by
// the engine's rule), so audits converge even where revisions need not
// travel.
std::vector<std::string> EchoKeys(const engine::ChangedRecord& record, bool with_audit) {
  std::vector<std::string> keys;
  keys.reserve(record.leaves.size());
  for (size_t i = 0; i < record.leaves.size(); ++i) {
    if (!with_audit) {
      keys.push_back(record.leaves[i]);
      continue;
    }
    const storage::RevisionAudit audit =
        i < record.leaf_audits.size() ? record.leaf_audits[i] : storage::RevisionAudit{};
    keys.push_back(absl::StrCat(record.leaves[i], std::string(1, '\0'), audit.author,
                                std::string(1, '\0'), audit.origin_node, std::string(1, '\0'),
                                audit.create_time_micros));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The link's filter: the intersection of both sides' (empty: all).
std::vector<std::string> LinkFilter(const std::vector<std::string>& mine,
                                    const std::vector<std::string>& theirs) {
  if (mine.empty()) return Sorted(theirs);
  if (theirs.empty()) return Sorted(mine);
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> other(theirs.begin(), theirs.end());
  for (const auto& t : mine) {
    if (other.contains(t)) out.push_back(t);
  }
  // Disjoint filters share nothing: a table name no user table can have
  // keeps the filter from meaning "everything".
  if (out.empty()) out.push_back("_none");
  return Sorted(out);
}

}  // namespace

std::string CheckpointKey(const std::string& source_node_id, std::vector<std::string> tables) {
  return absl::StrCat(source_node_id, "/", absl::StrJoin(Sorted(std::move(tables)), ","));
}

class Session::Impl {
 public:
  Impl(SessionOptions options, MessageStream* stream)
      : options_(std::move(options)), stream_(stream) {
    if (options_.logger == nullptr) options_.logger = NullLogger("recondb.reconciler");
    options_.batch_records = std::max(1, options_.batch_records);
    options_.window = std::max(1, options_.window);
    options_.part_bytes = std::max<int64_t>(1, options_.part_bytes);
  }

  absl::Status Run();
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      ending_ = true;
    }
    stream_->Cancel();
  }
  SessionProgress progress() const {
    absl::MutexLock lock(&mu_);
    return progress_;
  }

 private:
  struct InFlight {
    int64_t batch;
    int64_t up_to_seq;
    bool want_answered;
    int64_t records;  // Offered in the batch.
  };
  struct Pending {
    int64_t batch;
    int64_t up_to_seq;
    int64_t records;  // Offered in the batch.
  };

  absl::Status Handshake();
  // Handshake(), given options_.handshake_timeout to finish.
  absl::Status HandshakeWithDeadline();
  // The peer's identity and the version to speak, from its Hello; errors
  // as Run() documents them.
  absl::StatusOr<PeerIdentity> CheckHello(const v1::Hello& hello, int32_t max_version) const;
  void ReaderLoop();
  void WriterLoop();
  void SinkLoop();
  void SourceLoop();

  absl::Status HandleSummaries(const v1::Summaries& summaries);
  absl::Status HandleRevisions(const v1::Revisions& revisions);
  absl::Status HandleCaughtUp(const v1::CaughtUp& caught_up);
  absl::Status HandleWant(const v1::Want& want);
  absl::Status HandleAck(const v1::Ack& ack);
  // Source thread: what the peer's Ack 0 says of grants (version 3).
  absl::Status TakePeerGrants(const v1::Ack& ack);
  absl::Status SendPage();
  absl::Status CheckTable(std::string_view table) const;
  // Grants (docs/replication-protocol.md, "Version 3: grants").
  // Sets access_ (from options_.resolve_access, once).
  absl::Status ResolveAccess();
  // ResolveAccess(), then lets access_ claim the peer's node id.
  absl::Status CheckAccess();
  // The outgoing filter, what it withholds and what this node refuses,
  // from the link filter, the peer's own list and access_.
  absl::Status ApplyGrants(const v1::Hello& hello);
  // Source thread: whether `table` may be offered and sent to the peer.
  bool Sendable(std::string_view table) const;
  // Source thread: drops from `page` what the peer may not have.
  void Withhold(engine::ChangePage& page);
  // Sink: CheckTable, then PERMISSION_DENIED unless the peer may push it.
  absl::Status CheckIncoming(std::string_view table) const;
  // Sink: CheckTable for every table of `summaries`; a table the peer may
  // not push passes only as an echo: a definition identical to this node's
  // and records of which this node lacks nothing (what an older peer offers
  // back after pulling it). Else PERMISSION_DENIED, before anything is
  // applied.
  absl::Status CheckIncomingSummaries(const v1::Summaries& summaries) const;
  // The remaining fields of both catch-ups, from the counts below.
  void UpdateOutgoingCatchUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateIncomingCatchUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Ends the session with `status` (the first error wins).
  void Fail(absl::Status status);
  void Send(v1::ReplicateMessage message);
  void Publish();
  // Whether the session's revisions and summaries carry their audit.
  bool WithAudit() const { return peer_.protocol_version >= kAuditProtocolVersion; }
  bool OneShotDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return mode_ == v1::SESSION_MODE_ONE_SHOT && source_done_ && peer_final_ &&
           pending_.empty() && sink_in_.empty();
  }

  SessionOptions options_;
  MessageStream* const stream_;

  // Set by the handshake, then read-only.
  PeerIdentity peer_;
  std::string peer_name_;  // For messages: "peer <id>".
  v1::SessionMode mode_ = v1::SESSION_MODE_LIVE;
  std::vector<std::string> filter_;
  std::string checkpoint_key_;
  // What the peer may do, and what follows from it for this link: the
  // filter the source reads its feed with (filter_ without the tables
  // withheld from the peer by name), the tables withheld (those it asked
  // for by name: withheld_named_; others: withheld_unnamed_), and the tables
  // this node refuses from it.
  PeerAccess access_;
  bool access_resolved_ = false;
  std::vector<std::string> out_filter_;
  std::vector<std::string> withheld_named_;
  bool withheld_unnamed_ = false;
  std::vector<std::string> refused_;

  mutable absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;  // Error, Stop() or done.
  // Outgoing.
  std::deque<v1::ReplicateMessage> out_ ABSL_GUARDED_BY(mu_);
  int64_t out_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool finish_writing_ ABSL_GUARDED_BY(mu_) = false;
  bool writer_finished_ ABSL_GUARDED_BY(mu_) = false;
  // Incoming.
  std::deque<v1::ReplicateMessage> sink_in_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::ReplicateMessage> source_in_ ABSL_GUARDED_BY(mu_);
  // Messages queued for the source, and those it has finished handling.
  int64_t source_received_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t source_handled_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_ended_ ABSL_GUARDED_BY(mu_) = false;
  // Source state.
  int64_t notified_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // One-shot: the final CaughtUp is sent; nothing more will be.
  bool source_done_ ABSL_GUARDED_BY(mu_) = false;
  // One-shot: the final CaughtUp waits for newer feed entries to be sent.
  bool final_caught_up_blocked_ ABSL_GUARDED_BY(mu_) = false;
  // Sink state.
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);
  // The peer has sent a CaughtUp in this session / its final one.
  bool peer_sent_caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool peer_final_ ABSL_GUARDED_BY(mu_) = false;
  // Echo suppression: the leaves the peer offered for each record ("table
  // \0 id"). A record whose leaves here are all among them need not be
  // offered back. Bounded: cleared when it grows past kPeerHasLimit.
  absl::flat_hash_map<std::string, std::vector<std::string>> peer_has_ ABSL_GUARDED_BY(mu_);
  SessionProgress progress_ ABSL_GUARDED_BY(mu_);
  // Catch-up accounting. Source: feed entries after the cursor not yet
  // offered (-1: to be counted at the next page), and the records of
  // unacknowledged batches. Sink: the peer's last records_remaining (-1:
  // it does not say).
  int64_t source_remaining_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t in_flight_records_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t peer_remaining_ ABSL_GUARDED_BY(mu_) = -1;

  // Source-thread state.
  int64_t cursor_ = -1;  // -1 until the peer's Ack 0.
  int64_t next_batch_ = 1;
  std::deque<InFlight> in_flight_;
  bool at_end_ = false;
  int64_t caught_up_sent_at_ = -1;
  // The peer's stored checkpoint must be rewritten (rewound, or renamed to
  // this incarnation): the next page is sent even if empty.
  bool correct_checkpoint_ = false;
  absl::flat_hash_set<std::string> tables_sent_;
  // Tables the peer refuses from this node (its Ack 0), and the tables
  // already logged as withheld in this session.
  absl::flat_hash_set<std::string> peer_refused_;
  absl::flat_hash_set<std::string> withheld_logged_;
  // Sink-thread state.
  int64_t expected_batch_ = 1;
  int64_t last_up_to_seq_ = 0;
};

void Session::Impl::Fail(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    // After Stop() or a completed sync, a broken stream is the expected end.
    const bool expected = ending_ && absl::IsUnavailable(status);
    ending_ = true;
    if (!status_.ok() || expected) return;
    status_ = status;
  }
  // Before the handshake a failure is a failed dial, which the peer
  // manager reports (once, then with backoff): not worth a warning each time.
  options_.logger->log(peer_name_.empty() ? spdlog::level::debug : spdlog::level::warn,
                       "replication with {}: {}", peer_name_.empty() ? "a peer" : peer_name_,
                       status.ToString());
  stream_->Cancel();
}

void Session::Impl::Send(v1::ReplicateMessage message) {
  absl::MutexLock lock(&mu_);
  out_bytes_ += static_cast<int64_t>(message.ByteSizeLong());
  out_.push_back(std::move(message));
}

void Session::Impl::Publish() {
  if (!options_.on_progress) return;
  SessionProgress copy;
  {
    absl::MutexLock lock(&mu_);
    progress_.local_last_seq = options_.engine->LastSeq();
    copy = progress_;
  }
  options_.on_progress(copy);
}

absl::Status Session::Impl::CheckTable(std::string_view table) const {
  if (filter_.empty() || std::binary_search(filter_.begin(), filter_.end(), std::string(table))) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent table \"", Sv(table),
                                                 "\", outside the link's table filter"));
}

// ---- Grants (docs/replication-protocol.md, "Version 3: grants") ----

namespace {

bool IsUserTable(std::string_view t) { return !t.empty() && t[0] != '_'; }

// The most table names an Ack 0 may list in each of its grant fields.
constexpr int kMaxGrantTables = 10000;

}  // namespace

absl::Status Session::Impl::ResolveAccess() {
  if (access_resolved_) return absl::OkStatus();
  if (options_.resolve_access) {
    ASSIGN_OR_RETURN(access_, options_.resolve_access());
  } else {
    access_ = options_.access;
  }
  access_resolved_ = true;
  return absl::OkStatus();
}

absl::Status Session::Impl::CheckAccess() {
  RETURN_IF_ERROR(ResolveAccess());
  // Before anything is exchanged: a caller that presents another
  // principal's node id must not move the checkpoints kept for that node.
  if (absl::Status s = access_.ClaimNodeId(peer_.node_id); !s.ok()) {
    return absl::PermissionDeniedError(absl::StrCat("principal ", QuoteInput(access_.principal),
                                                    " may not use node id ",
                                                    QuoteInput(peer_.node_id), ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status Session::Impl::ApplyGrants(const v1::Hello& hello) {
  out_filter_ = filter_;
  if (access_.Unrestricted()) return absl::OkStatus();
  // The tables the peer may ask for: the link filter's, or (every table)
  // this node's own at the handshake. Tables created later are judged page
  // by page (Withhold, CheckIncoming).
  std::vector<std::string> candidates;
  if (filter_.empty()) {
    ASSIGN_OR_RETURN(std::vector<v1::Table> tables, options_.engine->ListTables());
    for (const v1::Table& t : tables) candidates.push_back(t.name());
  } else {
    candidates = filter_;
  }
  std::vector<std::string> withheld;
  std::vector<std::string> kept;
  for (const std::string& t : candidates) {
    if (!IsUserTable(t)) continue;
    (access_.MayPull(t) ? kept : withheld).push_back(t);
    if (!access_.MayPush(t)) refused_.push_back(t);
  }
  if (!filter_.empty()) out_filter_ = kept.empty() ? std::vector<std::string>{"_none"} : kept;
  // Named only if the peer named them: it is not told of tables it did not
  // ask for.
  const absl::flat_hash_set<std::string> asked(hello.tables().begin(), hello.tables().end());
  for (const std::string& t : withheld) {
    if (asked.contains(t)) {
      withheld_named_.push_back(t);
    } else {
      withheld_unnamed_ = true;
    }
  }
  std::sort(withheld.begin(), withheld.end());
  std::sort(withheld_named_.begin(), withheld_named_.end());
  std::sort(refused_.begin(), refused_.end());
  for (const std::string& t : withheld) withheld_logged_.insert(t);
  if (!withheld.empty()) {
    options_.logger->info(
        "replication with {}: withholding tables {} from it (principal {} may not pull them)",
        peer_name_, absl::StrJoin(withheld, ","), QuoteInput(access_.principal));
  }
  if (!refused_.empty()) {
    options_.logger->info("replication with {}: refusing tables {} from it (principal {} may not "
                          "push them)",
                          peer_name_, absl::StrJoin(refused_, ","), QuoteInput(access_.principal));
  }
  absl::MutexLock lock(&mu_);
  progress_.withheld_from_peer = std::move(withheld);
  progress_.refused_from_peer = refused_;
  return absl::OkStatus();
}

bool Session::Impl::Sendable(std::string_view table) const {
  return access_.MayPull(table) && !peer_refused_.contains(Sv(table));
}

void Session::Impl::Withhold(engine::ChangePage& page) {
  if (access_.Unrestricted() && peer_refused_.empty()) return;
  std::vector<std::string> newly;
  auto drop = [&](const std::string& table) {
    if (Sendable(table)) return false;
    if (access_.MayPull(table)) return true;  // Refused by the peer: said at Ack 0.
    if (withheld_logged_.insert(table).second) newly.push_back(table);
    return true;
  };
  page.tables.erase(std::remove_if(page.tables.begin(), page.tables.end(),
                                   [&](const v1::Table& t) { return drop(t.name()); }),
                    page.tables.end());
  page.records.erase(std::remove_if(page.records.begin(), page.records.end(),
                                    [&](const engine::ChangedRecord& r) { return drop(r.table); }),
                     page.records.end());
  if (newly.empty()) return;
  options_.logger->info(
      "replication with {}: withholding tables {} from it (principal {} may not pull them)",
      peer_name_, absl::StrJoin(newly, ","), QuoteInput(access_.principal));
  absl::MutexLock lock(&mu_);
  auto& list = progress_.withheld_from_peer;
  list.insert(list.end(), newly.begin(), newly.end());
  std::sort(list.begin(), list.end());
}

absl::Status Session::Impl::CheckIncoming(std::string_view table) const {
  RETURN_IF_ERROR(CheckTable(table));
  if (access_.MayPush(table)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "principal ", QuoteInput(access_.principal), " may not push table ", QuoteInput(table), " (",
      peer_name_, " sent it; nothing of the batch was written)"));
}

absl::Status Session::Impl::CheckIncomingSummaries(const v1::Summaries& summaries) const {
  std::vector<engine::ChangedRecord> echoes;
  for (const v1::Table& table : summaries.tables()) {
    RETURN_IF_ERROR(CheckTable(table.name()));
    if (access_.MayPush(table.name())) continue;
    auto mine = options_.engine->GetTable(table.name());
    if (!mine.ok() || mine->SerializeAsString() != table.SerializeAsString()) {
      return CheckIncoming(table.name());
    }
  }
  for (const v1::RecordSummary& record : summaries.records()) {
    RETURN_IF_ERROR(CheckTable(record.table()));
    if (access_.MayPush(record.table())) continue;
    if (!options_.engine->GetTable(record.table()).ok()) return CheckIncoming(record.table());
    echoes.push_back(internal::FromWire(record, WithAudit()));
  }
  if (echoes.empty()) return absl::OkStatus();
  auto wants = options_.engine->DiffRevisions(echoes);
  if (!wants.ok()) {
    return absl::Status(wants.status().code(),
                        absl::StrCat("summaries from ", peer_name_, ": ", wants.status().message()));
  }
  for (const engine::RevisionWant& want : *wants) {
    if (!want.missing.empty()) return CheckIncoming(want.table);
  }
  return absl::OkStatus();
}

absl::Status Session::Impl::TakePeerGrants(const v1::Ack& ack) {
  if (peer_.protocol_version < 3) return absl::OkStatus();
  if (ack.withheld_tables_size() > kMaxGrantTables || ack.refused_tables_size() > kMaxGrantTables) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent an Ack 0 listing more than ",
                                                   kMaxGrantTables, " tables"));
  }
  std::vector<std::string> withheld(ack.withheld_tables().begin(), ack.withheld_tables().end());
  std::vector<std::string> refused(ack.refused_tables().begin(), ack.refused_tables().end());
  withheld = Sorted(std::move(withheld));
  refused = Sorted(std::move(refused));
  peer_refused_.insert(refused.begin(), refused.end());
  if (!withheld.empty() || ack.unnamed_tables_withheld()) {
    const std::string what =
        withheld.empty() ? std::string("some of its tables")
                         : absl::StrCat("tables ", QuoteInput(absl::StrJoin(withheld, ",")),
                                        ack.unnamed_tables_withheld() ? " and others" : "");
    options_.logger->warn(
        "replication with {}: it withholds {} from this node (this node's principal there may not "
        "pull them)",
        peer_name_, what);
  }
  if (!refused.empty()) {
    options_.logger->info(
        "replication with {}: it refuses tables {} from this node (this node's principal there "
        "may not push them); they are not offered",
        peer_name_, QuoteInput(absl::StrJoin(refused, ",")));
  }
  absl::MutexLock lock(&mu_);
  progress_.withheld_by_peer = std::move(withheld);
  progress_.peer_withheld_unnamed = ack.unnamed_tables_withheld();
  progress_.refused_by_peer = std::move(refused);
  return absl::OkStatus();
}

namespace {

// bytes_done / records_done * records_remaining, without overflow for any
// realistic count; 0 until a record is done.
int64_t EstimateBytes(int64_t bytes_done, int64_t records_done, int64_t records_remaining) {
  if (records_done <= 0 || records_remaining <= 0) return 0;
  return static_cast<int64_t>(static_cast<double>(bytes_done) / static_cast<double>(records_done) *
                              static_cast<double>(records_remaining));
}

}  // namespace

void Session::Impl::UpdateOutgoingCatchUp() {
  v1::CatchUpProgress& c = progress_.outgoing_catch_up;
  c.set_remaining_known(true);
  c.set_records_remaining(std::max<int64_t>(0, source_remaining_) + in_flight_records_);
  c.set_bytes_remaining(EstimateBytes(c.bytes_done(), c.records_done(), c.records_remaining()));
}

void Session::Impl::UpdateIncomingCatchUp() {
  v1::CatchUpProgress& c = progress_.incoming_catch_up;
  int64_t pending_records = 0;
  for (const Pending& p : pending_) pending_records += p.records;
  c.set_remaining_known(peer_remaining_ >= 0);
  c.set_records_remaining(peer_remaining_ >= 0 ? peer_remaining_ + pending_records : 0);
  c.set_bytes_remaining(EstimateBytes(c.bytes_done(), c.records_done(), c.records_remaining()));
}

absl::Status Session::Impl::Handshake() {
  const int32_t max_version = std::clamp(options_.max_protocol_version, kMinProtocolVersion,
                                         kProtocolVersion);
  auto make_hello = [&](v1::SessionMode mode) {
    v1::ReplicateMessage hello;
    v1::Hello* h = hello.mutable_hello();
    h->set_node_id(options_.engine->node_id());
    h->set_protocol_version(kMinProtocolVersion);
    for (const auto& t : options_.tables) h->add_tables(t);
    h->set_mode(mode);
    if (max_version >= 2) {
      h->set_max_protocol_version(max_version);
      h->set_incarnation(options_.engine->incarnation());
      h->set_last_seq(options_.engine->LastSeq());
    }
    return hello;
  };
  const v1::SessionMode wanted_mode =
      options_.mode == v1::SESSION_MODE_UNSPECIFIED ? v1::SESSION_MODE_LIVE : options_.mode;
  // A dialer knows whom it reached (the verified server certificate) once
  // the call is connected, before it writes anything: a peer that may do
  // nothing here is not even sent the Hello (node id, incarnation, feed end,
  // table filter).
  if (options_.dialer) RETURN_IF_ERROR(ResolveAccess());
  if (options_.dialer && !stream_->Write(make_hello(wanted_mode))) {
    return absl::UnavailableError("the stream broke before the handshake");
  }
  v1::ReplicateMessage first;
  if (!stream_->Read(&first)) return absl::UnavailableError("the peer closed the stream before its Hello");
  if (!first.has_hello()) return absl::InvalidArgumentError("the peer's first message is not a Hello");
  const v1::Hello& hello = first.hello();
  ASSIGN_OR_RETURN(peer_, CheckHello(hello, max_version));
  // The node id is the peer's to choose (1-255 arbitrary bytes): quoted and
  // escaped, never logged raw.
  peer_name_ = absl::StrCat("peer ", QuoteInput(peer_.node_id));
  RETURN_IF_ERROR(CheckAccess());
  mode_ = options_.dialer ? wanted_mode
                          : (hello.mode() == v1::SESSION_MODE_ONE_SHOT ? v1::SESSION_MODE_ONE_SHOT
                                                                       : v1::SESSION_MODE_LIVE);
  filter_ = LinkFilter(options_.tables, {hello.tables().begin(), hello.tables().end()});
  checkpoint_key_ = CheckpointKey(peer_.node_id, filter_);
  RETURN_IF_ERROR(ApplyGrants(hello));
  if (!options_.dialer && !stream_->Write(make_hello(mode_))) {
    return absl::UnavailableError("the stream broke during the handshake");
  }
  ASSIGN_OR_RETURN(const engine::Checkpoint checkpoint,
                   options_.engine->GetCheckpoint(checkpoint_key_));
  {
    absl::MutexLock lock(&mu_);
    progress_.peer_node_id = peer_.node_id;
    progress_.peer_incarnation = peer_.incarnation;
    progress_.protocol_version = peer_.protocol_version;
    progress_.peer_principal = access_.principal;
    progress_.incoming_checkpoint = checkpoint.seq;
    progress_.peer_last_seq = std::max(hello.last_seq(), checkpoint.seq);
    // A version-2 source may resume this node below its checkpoint (when
    // it cannot verify it): its batches may then start lower.
    last_up_to_seq_ = peer_.protocol_version >= 2 ? 0 : checkpoint.seq;
  }
  // Progress first, then the handshake callback: whoever learns of the link
  // from the callback (the peer manager's ListPeers) sees its lag at once,
  // never a 0 before the first page.
  Publish();
  if (options_.on_handshake) RETURN_IF_ERROR(options_.on_handshake(peer_));
  v1::ReplicateMessage start;
  start.mutable_ack()->set_batch(0);
  start.mutable_ack()->set_checkpoint(checkpoint.seq);
  if (peer_.protocol_version >= 2) start.mutable_ack()->set_incarnation(checkpoint.source_incarnation);
  if (peer_.protocol_version >= 3) {
    for (const auto& t : withheld_named_) start.mutable_ack()->add_withheld_tables(t);
    start.mutable_ack()->set_unnamed_tables_withheld(withheld_unnamed_);
    for (const auto& t : refused_) start.mutable_ack()->add_refused_tables(t);
  }
  Send(std::move(start));
  options_.logger->info("replication with {}: connected ({}, tables: {}, protocol {})", peer_name_,
                        mode_ == v1::SESSION_MODE_ONE_SHOT ? "one-shot" : "live",
                        filter_.empty() ? "all" : absl::StrJoin(filter_, ","),
                        peer_.protocol_version);
  return absl::OkStatus();
}

absl::Status Session::Impl::HandshakeWithDeadline() {
  // A watchdog breaks the stream if the handshake is not over in time; the
  // handshake then fails on the broken stream and is reported as late.
  bool done = false;
  bool late = false;
  std::thread watchdog([&] {
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&done), options_.handshake_timeout)) return;
    late = true;
    stream_->Cancel();
  });
  absl::Status status = Handshake();
  {
    absl::MutexLock lock(&mu_);
    done = true;
  }
  watchdog.join();
  if (late) {
    return absl::DeadlineExceededError(
        absl::StrCat("no Hello from the peer within ", absl::FormatDuration(options_.handshake_timeout)));
  }
  return status;
}

absl::StatusOr<PeerIdentity> Session::Impl::CheckHello(const v1::Hello& hello,
                                                       int32_t max_version) const {
  const int32_t peer_min = hello.protocol_version();
  const int32_t peer_max = std::max(hello.max_protocol_version(), peer_min);
  const int32_t version = std::min(max_version, peer_max);
  if (version < std::max(kMinProtocolVersion, peer_min)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "peer ", QuoteInput(hello.node_id()), " speaks replication protocol versions ", peer_min,
        "-", peer_max, "; this node speaks versions ", kMinProtocolVersion, "-", max_version));
  }
  if (hello.node_id().empty() || hello.node_id().size() > 255) {
    return absl::InvalidArgumentError("Hello.node_id must be 1-255 bytes");
  }
  PeerIdentity peer;
  peer.node_id = hello.node_id();
  peer.protocol_version = version;
  if (version >= 2) {
    peer.incarnation = hello.incarnation();
    if (!engine::IsIncarnationId(peer.incarnation)) {
      return absl::InvalidArgumentError("Hello.incarnation must be 32 lowercase hex digits");
    }
    if (hello.last_seq() < 0) return absl::InvalidArgumentError("Hello.last_seq is negative");
  }
  const engine::Engine& engine = *options_.engine;
  if (version >= 2 ? peer.incarnation == engine.incarnation() : peer.node_id == engine.node_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the peer is this node itself (", engine.node_id(), ")"));
  }
  if (peer.node_id == engine.node_id()) {
    // Two running stores with one node id: a copy that was not noticed
    // (a disk image, a file system snapshot). They are still two peers to
    // each other, by incarnation, and lose nothing; but say it.
    options_.logger->warn(
        "peer {} has this node's own id but another incarnation: it runs on a copy of this "
        "node's store (a disk image or snapshot?). Both replicate safely; give one a fresh "
        "data directory to tell them apart",
        QuoteInput(peer.node_id));
  }
  for (const auto& t : hello.tables()) {
    // The engine's rule (docs/api.md): a name no table can have is a lie.
    if (absl::Status s = ValidateTableName(t); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Hello.tables: ", s.message()));
    }
  }
  return peer;
}

absl::Status Session::Impl::Run() {
  if (options_.engine == nullptr) return absl::InvalidArgumentError("SessionOptions.engine is null");
  if (absl::Status s = HandshakeWithDeadline(); !s.ok()) {
    Fail(s);
    absl::MutexLock lock(&mu_);
    return status_.ok() ? s : status_;
  }
  const int64_t listener = options_.engine->AddChangeListener([this](int64_t seq) {
    absl::MutexLock lock(&mu_);
    notified_seq_ = std::max(notified_seq_, seq);
  });
  std::thread writer([this] { WriterLoop(); });
  std::thread reader([this] { ReaderLoop(); });
  std::thread sink([this] { SinkLoop(); });
  std::thread source([this] { SourceLoop(); });
  {
    // One-shot: once done, flush, half-close and wait for the peer's end.
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->ending_ || self->OneShotDone(); },
        this));
    if (!ending_) {
      finish_writing_ = true;
      mu_.Await(absl::Condition(
          +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->ending_ || (self->writer_finished_ && self->read_ended_);
          },
          this));
      ending_ = true;
    }
  }
  stream_->Cancel();  // Releases the reader and writer if still blocked.
  options_.engine->RemoveChangeListener(listener);
  for (std::thread* t : {&writer, &reader, &sink, &source}) t->join();
  Publish();
  absl::MutexLock lock(&mu_);
  if (status_.ok()) {
    options_.logger->info("replication with {}: ended ({} revisions sent, {} grafted)", peer_name_,
                          progress_.sent.revisions_sent(), progress_.received.revisions_grafted());
  }
  return status_;
}

void Session::Impl::WriterLoop() {
  while (true) {
    v1::ReplicateMessage message;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->ending_ || !self->out_.empty() || self->finish_writing_;
          },
          this));
      if (ending_) return;
      if (out_.empty()) {  // finish_writing_ and everything sent.
        stream_->WritesDone();
        writer_finished_ = true;
        return;
      }
      message = std::move(out_.front());
      out_.pop_front();
      out_bytes_ -= static_cast<int64_t>(message.ByteSizeLong());
    }
    if (!stream_->Write(message)) {
      Fail(absl::UnavailableError(absl::StrCat("the stream to ", peer_name_, " broke")));
      return;
    }
  }
}

void Session::Impl::ReaderLoop() {
  while (true) {
    v1::ReplicateMessage message;
    if (!stream_->Read(&message)) {
      absl::MutexLock lock(&mu_);
      // What the peer sent before it left is judged first: a bad last
      // message is reported as such, not as the end of the stream.
      mu_.Await(absl::Condition(
          +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->ending_ || self->source_handled_ == self->source_received_;
          },
          this));
      read_ended_ = true;
      // Tell the sink in order: the stream's end is a message too.
      sink_in_.emplace_back();
      return;
    }
    switch (message.body_case()) {
      case v1::ReplicateMessage::kSummaries:
      case v1::ReplicateMessage::kRevisions:
      case v1::ReplicateMessage::kCaughtUp: {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->ending_ || self->sink_in_.size() < kSinkQueueLimit;
            },
            this));
        if (ending_) return;
        sink_in_.push_back(std::move(message));
        break;
      }
      case v1::ReplicateMessage::kWant:
      case v1::ReplicateMessage::kAck: {
        absl::MutexLock lock(&mu_);
        source_in_.push_back(std::move(message));
        ++source_received_;
        break;
      }
      case v1::ReplicateMessage::kHello:
        Fail(absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent a second Hello")));
        return;
      default:
        Fail(absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent a message with no body")));
        return;
    }
  }
}

void Session::Impl::SinkLoop() {
  while (true) {
    v1::ReplicateMessage message;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->ending_ || !self->sink_in_.empty(); },
          this));
      if (ending_) return;
      message = std::move(sink_in_.front());
      sink_in_.pop_front();
    }
    absl::Status status;
    switch (message.body_case()) {
      case v1::ReplicateMessage::kSummaries:
        status = HandleSummaries(message.summaries());
        break;
      case v1::ReplicateMessage::kRevisions:
        status = HandleRevisions(message.revisions());
        break;
      case v1::ReplicateMessage::kCaughtUp:
        status = HandleCaughtUp(message.caught_up());
        break;
      default: {  // The end of the stream.
        absl::MutexLock lock(&mu_);
        if (ending_ || finish_writing_ || OneShotDone()) return;
        status = absl::UnavailableError(absl::StrCat(peer_name_, " closed the stream"));
        break;
      }
    }
    if (!status.ok()) {
      Fail(status);
      return;
    }
    Publish();
  }
}

absl::Status Session::Impl::HandleSummaries(const v1::Summaries& summaries) {
  {
    absl::MutexLock lock(&mu_);
    if (peer_final_) {
      return absl::InvalidArgumentError(
          absl::StrCat(peer_name_, " sent Summaries after its final CaughtUp"));
    }
  }
  if (summaries.batch() != expected_batch_) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent Summaries batch ",
                                                   summaries.batch(), ", expected ", expected_batch_));
  }
  if (summaries.up_to_seq() < last_up_to_seq_) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent Summaries up to seq ",
                                                   summaries.up_to_seq(), ", behind ", last_up_to_seq_));
  }
  // Every table of the batch is checked before anything of it is applied.
  RETURN_IF_ERROR(CheckIncomingSummaries(summaries));
  ++expected_batch_;
  last_up_to_seq_ = summaries.up_to_seq();
  for (const v1::Table& table : summaries.tables()) {
    auto applied = options_.engine->ApplyForeignTable(table);
    if (!applied.ok()) {
      return absl::Status(applied.status().code(),
                          absl::StrCat("table from ", peer_name_, ": ", applied.status().message()));
    }
  }
  std::vector<engine::ChangedRecord> offered;
  offered.reserve(summaries.records_size());
  for (const v1::RecordSummary& record : summaries.records()) {
    offered.push_back(internal::FromWire(record, WithAudit()));
  }
  auto wants = options_.engine->DiffRevisions(offered);
  if (!wants.ok()) {
    return absl::Status(wants.status().code(),
                        absl::StrCat("summaries from ", peer_name_, ": ", wants.status().message()));
  }
  // The audits of leaves this node has already (a revision made here too,
  // or an audit that changed at the source): kept by the engine's rule. An
  // audit is data the peer writes: only for tables it may push.
  std::vector<engine::ChangedRecord> pushable;
  for (const engine::ChangedRecord& record : offered) {
    if (access_.MayPush(record.table)) pushable.push_back(record);
  }
  if (auto merged = options_.engine->MergeForeignAudit(pushable); !merged.ok()) {
    return absl::Status(merged.status().code(),
                        absl::StrCat("summaries from ", peer_name_, ": ", merged.status().message()));
  }
  v1::ReplicateMessage reply;
  reply.mutable_want()->set_batch(summaries.batch());
  for (const auto& want : *wants) *reply.mutable_want()->add_records() = internal::ToWire(want);
  Send(std::move(reply));
  absl::MutexLock lock(&mu_);
  if (peer_has_.size() + offered.size() > kPeerHasLimit) peer_has_.clear();
  for (const engine::ChangedRecord& record : offered) {
    peer_has_[RecordKey(record.table, record.id)] = EchoKeys(record, WithAudit());
  }
  pending_.push_back(Pending{summaries.batch(), summaries.up_to_seq(), summaries.records_size()});
  progress_.incoming_caught_up = false;
  if (!progress_.incoming_catch_up.running()) {  // A new catch-up begins.
    progress_.incoming_catch_up.Clear();
    progress_.incoming_catch_up.set_running(true);
  }
  peer_remaining_ =
      summaries.has_records_remaining() ? std::max<int64_t>(0, summaries.records_remaining()) : -1;
  UpdateIncomingCatchUp();
  progress_.peer_last_seq = std::max(
      {progress_.peer_last_seq, summaries.up_to_seq(), summaries.source_last_seq()});
  progress_.received.set_batches(progress_.received.batches() + 1);
  progress_.received.set_records_offered(progress_.received.records_offered() + summaries.records_size());
  progress_.received.set_tables_sent(progress_.received.tables_sent() + summaries.tables_size());
  return absl::OkStatus();
}

absl::Status Session::Impl::HandleRevisions(const v1::Revisions& revisions) {
  Pending pending;
  {
    absl::MutexLock lock(&mu_);
    if (pending_.empty() || pending_.front().batch != revisions.batch()) {
      return absl::InvalidArgumentError(
          absl::StrCat(peer_name_, " sent Revisions for batch ", revisions.batch(),
                       pending_.empty() ? ", which nothing asked for"
                                        : absl::StrCat(", expected ", pending_.front().batch)));
    }
    pending = pending_.front();
  }
  if (revisions.up_to_seq() != pending.up_to_seq) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent Revisions of batch ",
                                                   revisions.batch(), " up to seq ", revisions.up_to_seq(),
                                                   ", its Summaries said ", pending.up_to_seq));
  }
  std::vector<engine::ForeignRevision> foreign;
  foreign.reserve(revisions.revisions_size());
  int64_t stubs = 0;
  int64_t bytes = 0;
  for (const v1::RevisionBody& body : revisions.revisions()) {
    RETURN_IF_ERROR(CheckIncoming(body.table()));
    bytes += static_cast<int64_t>(body.ByteSizeLong());
    ASSIGN_OR_RETURN(engine::ForeignRevision revision, internal::FromWire(body, WithAudit()));
    stubs += revision.rev.stub ? 1 : 0;
    foreign.push_back(std::move(revision));
  }
  const engine::Checkpoint checkpoint{checkpoint_key_, pending.up_to_seq, peer_.incarnation};
  auto grafted = options_.engine->ApplyForeignRevisions(
      foreign, revisions.last_part() ? &checkpoint : nullptr);
  if (!grafted.ok()) {
    return absl::Status(grafted.status().code(), absl::StrCat("revisions from ", peer_name_,
                                                              " refused: ", grafted.status().message()));
  }
  if (revisions.last_part()) {
    v1::ReplicateMessage ack;
    ack.mutable_ack()->set_batch(pending.batch);
    ack.mutable_ack()->set_checkpoint(pending.up_to_seq);
    Send(std::move(ack));
  }
  absl::MutexLock lock(&mu_);
  auto& received = progress_.received;
  received.set_revisions_sent(received.revisions_sent() + revisions.revisions_size() - stubs);
  received.set_stubs_sent(received.stubs_sent() + stubs);
  received.set_revisions_grafted(received.revisions_grafted() + *grafted);
  received.set_bytes(received.bytes() + bytes);
  v1::CatchUpProgress& catch_up = progress_.incoming_catch_up;
  catch_up.set_bytes_done(catch_up.bytes_done() + bytes);
  if (revisions.last_part()) {
    pending_.pop_front();
    progress_.incoming_checkpoint = pending.up_to_seq;
    catch_up.set_records_done(catch_up.records_done() + pending.records);
  }
  UpdateIncomingCatchUp();
  return absl::OkStatus();
}

absl::Status Session::Impl::HandleCaughtUp(const v1::CaughtUp& caught_up) {
  absl::MutexLock lock(&mu_);
  if (!pending_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " said it was caught up with batch ",
                                                   pending_.front().batch, " unfinished"));
  }
  if (peer_final_) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent a CaughtUp after its final one"));
  }
  peer_sent_caught_up_ = true;
  peer_final_ = caught_up.final();
  progress_.incoming_caught_up = true;
  progress_.peer_last_seq = std::max(progress_.peer_last_seq, caught_up.up_to_seq());
  progress_.incoming_catch_up.set_running(false);
  progress_.incoming_catch_up.set_records_remaining(0);
  progress_.incoming_catch_up.set_bytes_remaining(0);
  return absl::OkStatus();
}

void Session::Impl::SourceLoop() {
  const bool live = mode_ == v1::SESSION_MODE_LIVE;
  while (true) {
    std::optional<v1::ReplicateMessage> message;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (ending_ || !source_in_.empty()) return true;
        if (cursor_ < 0 || out_bytes_ >= kOutgoingByteLimit || source_done_) return false;
        // Live, and one-shot until its final CaughtUp: follow the feed.
        if (at_end_ && notified_seq_ > cursor_) return true;
        // One-shot: the peer's CaughtUp may allow the final one.
        if (!live && at_end_ && in_flight_.empty() && peer_sent_caught_up_ &&
            !final_caught_up_blocked_) {
          return true;
        }
        return !at_end_ && static_cast<int>(in_flight_.size()) < options_.window;
      };
      mu_.Await(absl::Condition(&ready));
      if (ending_) return;
      if (!source_in_.empty()) {
        message = std::move(source_in_.front());
        source_in_.pop_front();
      } else if (at_end_ && notified_seq_ > cursor_) {
        at_end_ = false;  // Notified of new changes.
        source_remaining_ = -1;  // A new catch-up: count what it has to offer.
      }
    }
    absl::Status status;
    if (message.has_value()) {
      status = message->has_want() ? HandleWant(message->want()) : HandleAck(message->ack());
      if (status.ok()) {
        absl::MutexLock lock(&mu_);
        ++source_handled_;
      }
    } else if (!at_end_) {
      status = SendPage();
    }
    if (status.ok() && at_end_ && in_flight_.empty()) {
      // Flags first: once the peer has this message it may finish.
      absl::MutexLock lock(&mu_);
      // A one-shot source ends with a final CaughtUp once the peer has said
      // it is caught up too (so nothing more will be grafted here) and
      // everything in the feed since, echoes included, is sent: the
      // peer's checkpoint for this node then reaches this node's end.
      const bool final = !live && peer_sent_caught_up_ && notified_seq_ <= cursor_;
      final_caught_up_blocked_ = !live && peer_sent_caught_up_ && !final;
      if (final || cursor_ > caught_up_sent_at_) {
        caught_up_sent_at_ = cursor_;
        v1::ReplicateMessage caught_up;
        caught_up.mutable_caught_up()->set_up_to_seq(cursor_);
        caught_up.mutable_caught_up()->set_final(final);
        progress_.outgoing_caught_up = true;
        progress_.outgoing_catch_up.set_running(false);
        progress_.outgoing_catch_up.set_records_remaining(0);
        progress_.outgoing_catch_up.set_bytes_remaining(0);
        if (final) source_done_ = true;
        out_bytes_ += static_cast<int64_t>(caught_up.ByteSizeLong());
        out_.push_back(std::move(caught_up));
      }
    }
    if (!status.ok()) {
      Fail(status);
      return;
    }
    Publish();
  }
}

absl::Status Session::Impl::SendPage() {
  bool count = false;
  {
    absl::MutexLock lock(&mu_);
    count = source_remaining_ < 0;
  }
  int64_t counted = -1;
  // Once per catch-up (docs/replication-protocol.md, "Catch-up progress").
  if (count) {
    ASSIGN_OR_RETURN(counted, options_.engine->CountChangesAfter(cursor_, filter_));
  }
  ASSIGN_OR_RETURN(engine::ChangePage page,
                   options_.engine->ReadChangePage(cursor_, filter_, options_.batch_records));
  const int64_t consumed = static_cast<int64_t>(page.records.size() + page.tables.size());
  int64_t remaining = 0;
  {
    absl::MutexLock lock(&mu_);
    if (counted >= 0) source_remaining_ = counted;
    source_remaining_ = std::max<int64_t>(0, source_remaining_ - consumed);
    if (page.end_of_feed) {
      source_remaining_ = 0;
    } else if (source_remaining_ == 0) {
      // Written since the count: count again for the next page. Until then
      // the page says 0 more, which the next one corrects.
      source_remaining_ = -1;
    }
    remaining = std::max<int64_t>(0, source_remaining_);
  }
  if (page.end_of_feed) at_end_ = true;
  Withhold(page);
  if (page.records.empty() && page.tables.empty() && page.up_to_seq == cursor_ &&
      !correct_checkpoint_) {
    return absl::OkStatus();
  }
  correct_checkpoint_ = false;
  v1::ReplicateMessage message;
  v1::Summaries* summaries = message.mutable_summaries();
  summaries->set_batch(next_batch_++);
  summaries->set_up_to_seq(page.up_to_seq);
  if (peer_.protocol_version >= 2) {
    summaries->set_source_last_seq(std::max(page.up_to_seq, options_.engine->LastSeq()));
    summaries->set_records_remaining(remaining);
  }
  // Tables first: those changed in the page, then those its records need
  // that this session has not sent yet.
  for (const v1::Table& table : page.tables) {
    *summaries->add_tables() = table;
    tables_sent_.insert(table.name());
  }
  {
    // Leave out what the peer itself offered us (echo).
    absl::MutexLock lock(&mu_);
    auto echoed = [this](const engine::ChangedRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      auto it = peer_has_.find(RecordKey(record.table, record.id));
      if (it == peer_has_.end()) return false;
      const auto& theirs = it->second;  // Sorted.
      const std::vector<std::string> ours = EchoKeys(record, WithAudit());
      const bool covered = std::includes(theirs.begin(), theirs.end(), ours.begin(), ours.end());
      peer_has_.erase(it);
      return covered;
    };
    page.records.erase(std::remove_if(page.records.begin(), page.records.end(), echoed),
                       page.records.end());
  }
  for (const engine::ChangedRecord& record : page.records) {
    if (tables_sent_.insert(record.table).second) {
      ASSIGN_OR_RETURN(v1::Table table, options_.engine->GetTable(record.table));
      *summaries->add_tables() = std::move(table);
    }
    *summaries->add_records() = internal::ToWire(record, WithAudit());
  }
  in_flight_.push_back(
      InFlight{summaries->batch(), page.up_to_seq, false, summaries->records_size()});
  cursor_ = page.up_to_seq;
  {
    absl::MutexLock lock(&mu_);
    progress_.outgoing_caught_up = false;
    if (!progress_.outgoing_catch_up.running()) {  // A new catch-up begins.
      progress_.outgoing_catch_up.Clear();
      progress_.outgoing_catch_up.set_running(true);
    }
    in_flight_records_ += summaries->records_size();
    UpdateOutgoingCatchUp();
    auto& sent = progress_.sent;
    sent.set_batches(sent.batches() + 1);
    sent.set_records_offered(sent.records_offered() + summaries->records_size());
    sent.set_tables_sent(sent.tables_sent() + summaries->tables_size());
  }
  Send(std::move(message));
  return absl::OkStatus();
}

absl::Status Session::Impl::HandleWant(const v1::Want& want) {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [](const InFlight& f) { return !f.want_answered; });
  if (it == in_flight_.end() || it->batch != want.batch()) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent a Want for batch ", want.batch(),
                                                   " out of turn"));
  }
  it->want_answered = true;
  std::vector<engine::RevisionWant> wants;
  wants.reserve(want.records_size());
  for (const v1::RecordWant& record : want.records()) {
    RETURN_IF_ERROR(CheckTable(record.table()));
    if (!Sendable(record.table())) {
      return absl::PermissionDeniedError(absl::StrCat(
          "principal ", QuoteInput(access_.principal), " may not pull table ",
          QuoteInput(record.table()), " (", peer_name_, " asked for its revisions)"));
    }
    wants.push_back(internal::FromWire(record));
  }
  auto collected = options_.engine->CollectRevisions(wants);
  if (!collected.ok()) {
    return absl::Status(collected.status().code(), absl::StrCat("Want from ", peer_name_, ": ",
                                                                collected.status().message()));
  }
  // Parts of whole records, about part_bytes each.
  int64_t bodies = 0;
  int64_t stubs = 0;
  int64_t bytes = 0;
  v1::ReplicateMessage part;
  int64_t part_bytes = 0;
  auto flush = [&](bool last) {
    part.mutable_revisions()->set_batch(want.batch());
    part.mutable_revisions()->set_up_to_seq(it->up_to_seq);
    part.mutable_revisions()->set_last_part(last);
    Send(std::move(part));
    part.Clear();
    part_bytes = 0;
    // Memory stays flat: wait while the writer is behind.
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Impl* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
          return self->ending_ || self->out_bytes_ < kOutgoingByteLimit;
        },
        this));
  };
  const engine::ForeignRevision* previous = nullptr;
  for (const engine::ForeignRevision& revision : *collected) {
    const bool new_record =
        previous == nullptr || previous->table != revision.table || previous->rev.id != revision.rev.id;
    if (new_record && part_bytes >= options_.part_bytes) flush(false);
    v1::RevisionBody* body = part.mutable_revisions()->add_revisions();
    *body = internal::ToWire(revision, WithAudit());
    part_bytes += static_cast<int64_t>(body->ByteSizeLong());
    bytes += static_cast<int64_t>(body->ByteSizeLong());
    (revision.rev.stub ? stubs : bodies) += 1;
    previous = &revision;
  }
  flush(true);
  absl::MutexLock lock(&mu_);
  auto& sent = progress_.sent;
  sent.set_revisions_sent(sent.revisions_sent() + bodies);
  sent.set_stubs_sent(sent.stubs_sent() + stubs);
  sent.set_bytes(sent.bytes() + bytes);
  progress_.outgoing_catch_up.set_bytes_done(progress_.outgoing_catch_up.bytes_done() + bytes);
  return absl::OkStatus();
}

absl::Status Session::Impl::HandleAck(const v1::Ack& ack) {
  if (ack.batch() == 0) {
    if (cursor_ >= 0) return absl::InvalidArgumentError(absl::StrCat(peer_name_, " sent a second Ack 0"));
    const int64_t claimed = std::max<int64_t>(0, ack.checkpoint());
    int64_t start = 0;
    if (peer_.protocol_version >= 2) {
      // Verified: resume only where this node's feed provably holds what
      // the feed the checkpoint was taken from held.
      start = options_.engine->ResumePoint(ack.incarnation(), claimed);
    } else {
      // A version-1 receiver names no incarnation, so its checkpoint cannot
      // be verified: this node might have been restored or copied since.
      start = 0;
    }
    if (start != claimed) {
      options_.logger->warn(
          "replication with {}: its checkpoint for this node (seq {} of incarnation {}) is not "
          "provably part of this node's feed (this store was restored or copied since, or the "
          "peer is an old version); re-reading from seq {} (it is sent only what it lacks)",
          peer_name_, claimed, ack.incarnation().empty() ? "unknown" : QuoteInput(ack.incarnation()), start);
      // Send the first page even if empty, so that the peer's checkpoint
      // is corrected at once.
      correct_checkpoint_ = true;
    } else if (peer_.protocol_version >= 2 && ack.incarnation() != options_.engine->incarnation()) {
      correct_checkpoint_ = true;  // Rename it to this incarnation.
    }
    RETURN_IF_ERROR(TakePeerGrants(ack));
    cursor_ = start;
    absl::MutexLock lock(&mu_);
    progress_.outgoing_checkpoint = start;
    progress_.peer_claimed_checkpoint = claimed;
    progress_.resumed_from = start;
    return absl::OkStatus();
  }
  if (in_flight_.empty() || in_flight_.front().batch != ack.batch() || !in_flight_.front().want_answered) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " acknowledged batch ", ack.batch(),
                                                   " out of turn"));
  }
  if (ack.checkpoint() != in_flight_.front().up_to_seq) {
    return absl::InvalidArgumentError(absl::StrCat(peer_name_, " acknowledged batch ", ack.batch(),
                                                   " at seq ", ack.checkpoint(), ", expected ",
                                                   in_flight_.front().up_to_seq));
  }
  const int64_t records = in_flight_.front().records;
  in_flight_.pop_front();
  absl::MutexLock lock(&mu_);
  progress_.outgoing_checkpoint = ack.checkpoint();
  in_flight_records_ -= records;
  progress_.outgoing_catch_up.set_records_done(progress_.outgoing_catch_up.records_done() +
                                               records);
  UpdateOutgoingCatchUp();
  return absl::OkStatus();
}

Session::Session(SessionOptions options, MessageStream* stream)
    : impl_(std::make_unique<Impl>(std::move(options), stream)) {}
Session::~Session() = default;
absl::Status Session::Run() { return impl_->Run(); }
void Session::Stop() { impl_->Stop(); }
SessionProgress Session::progress() const { return impl_->progress(); }

}  // namespace recondb::reconciler
