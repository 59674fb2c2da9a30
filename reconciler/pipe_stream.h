// An in-process MessageStream pair, for tests and embedded use: what one end
// writes the other reads, in order, with a bounded buffer per direction (so
// flow control behaves like a network stream's).
#ifndef RECONDB_RECONCILER_PIPE_STREAM_H_
#define RECONDB_RECONCILER_PIPE_STREAM_H_

#include <memory>
#include <utility>

#include "reconciler/message_stream.h"

namespace recondb::reconciler {

struct PipeEnds {
  std::unique_ptr<MessageStream> first;
  std::unique_ptr<MessageStream> second;
};

// `capacity`: messages buffered per direction before Write blocks (>= 1).
// Cancel() on either end breaks both, like a dropped connection.
PipeEnds MakePipe(int capacity = 16);

}  // namespace recondb::reconciler

#endif  // RECONDB_RECONCILER_PIPE_STREAM_H_
