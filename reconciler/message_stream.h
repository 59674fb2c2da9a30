// The transport seam of the replication protocol: a bidirectional, ordered
// stream of ReplicateMessage. The daemon adapts a gRPC Replicate call to it
// (daemon/replication_service.h, reconciler/grpc_stream.h); tests use
// reconciler/pipe_stream.h to run many nodes in one process.
#ifndef RECONDB_RECONCILER_MESSAGE_STREAM_H_
#define RECONDB_RECONCILER_MESSAGE_STREAM_H_

#include "recondb/v1/replication.pb.h"

namespace recondb::reconciler {

// Read may run on one thread while Write runs on another; at most one Read
// and one Write at a time.
class MessageStream {
 public:
  virtual ~MessageStream() = default;
  // Blocks for the next message. False once the other side finished
  // writing or the stream broke.
  virtual bool Read(v1::ReplicateMessage* message) = 0;
  // Blocks until the transport has taken the message (flow control). False
  // if the stream is broken; later writes fail too.
  virtual bool Write(const v1::ReplicateMessage& message) = 0;
  // No more writes from this side (half-close). Reads go on.
  virtual void WritesDone() = 0;
  // Unblocks this side: blocked and later Read/Write return false at once.
  // Safe from any thread, any number of times. The session calls it when it
  // ends with an error and then returns that status from Session::Run, so a
  // server-side adapter must NOT end the call here if it can avoid it: it
  // should only release its local waiters and deliver Run's status as the
  // call's status (gRPC: a ServerBidiReactor whose Finish(status) is called
  // after Run returns; a sync ServerReaderWriter cannot do that, since only
  // TryCancel unblocks its Read, and the peer would see CANCELLED). A client
  // adapter may cancel the call (ClientContext::TryCancel).
  virtual void Cancel() = 0;
};

}  // namespace recondb::reconciler

#endif  // RECONDB_RECONCILER_MESSAGE_STREAM_H_
