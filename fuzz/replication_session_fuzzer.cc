// The replication session (reconciler/session.h) fed arbitrary message
// sequences: a fresh fuzz::ReplicationNode() runs one Session over a
// ReplayStream whose peer "sends" the input's messages and reads everything.
// Frames: the first frame's tag is the setup (bit 0: this node dials; bit 1:
// live rather than one-shot; bits 2-3: max protocol version 1..3, 0 meaning
// the current one; its bytes are ignored); each later frame is one
// serialized v1::ReplicateMessage (frames that do not parse are skipped: the
// transport would refuse them).
// Invariants: Run returns (libFuzzer's -timeout catches a hang) with a
// status; the node is still readable afterwards, its change feed readable
// and its records all readable; nothing trips a sanitizer.
#include <string>
#include <vector>

#include "fuzz/frames.h"
#include "fuzz/replay_stream.h"
#include "fuzz/replication_node.h"
#include "reconciler/session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recondb;
  const std::vector<fuzz::Frame> frames = fuzz::SplitFrames(data, size, 64);
  if (frames.empty()) return 0;
  std::vector<v1::ReplicateMessage> messages;
  for (size_t i = 1; i < frames.size(); ++i) {
    v1::ReplicateMessage message;
    if (message.ParseFromArray(frames[i].bytes.data(), static_cast<int>(frames[i].bytes.size()))) {
      messages.push_back(std::move(message));
    }
  }
  const uint8_t setup = frames[0].tag;

  reconciler::testing::Node node = fuzz::ReplicationNode();
  fuzz::ReplayStream stream(std::move(messages));
  reconciler::SessionOptions options;
  options.engine = node.engine.get();
  options.dialer = (setup & 1) != 0;
  options.mode = (setup & 2) != 0 ? v1::SESSION_MODE_LIVE : v1::SESSION_MODE_ONE_SHOT;
  const int version = (setup >> 2) & 3;
  options.max_protocol_version = version == 0 ? reconciler::kProtocolVersion : version;
  options.batch_records = 2;
  options.window = 2;
  options.part_bytes = 512;
  reconciler::Session session(options, &stream);
  const absl::Status status = session.Run();
  (void)status;  // Any status: the peer may be arbitrarily wrong.

  // The node survived: its feed and every record in it are readable.
  auto changes = node.engine->GetChanges(0, {}, 1000);
  FUZZ_CHECK(changes.ok(), "feed unreadable after a session: " + changes.status().ToString());
  for (const v1::Change& change : *changes) {
    if (change.kind() != v1::CHANGE_KIND_RECORD) continue;
    v1::GetRecordHistoryRequest history;
    history.set_table(change.table());
    history.set_id(change.id());
    auto entries = node.engine->GetRecordHistory(history);
    FUZZ_CHECK(entries.ok(), "history of " + change.id() + " unreadable after a session: " +
                                 entries.status().ToString());
  }
  return 0;
}
