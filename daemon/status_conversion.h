// The one place where absl::Status and grpc::Status meet. Both follow the
// canonical status codes (google.rpc.Code), so a code maps to the code of the
// same name and the message is kept as it is.
#ifndef RECONDB_DAEMON_STATUS_CONVERSION_H_
#define RECONDB_DAEMON_STATUS_CONVERSION_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace recondb::daemon {

// The gRPC status a client receives for `status`: same code, same message.
// An OK status gives grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse of ToGrpcStatus. A code gRPC does not define (it cannot arrive
// from the wire, but a grpc::Status can be built with any int) becomes
// UNKNOWN with the message kept.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_STATUS_CONVERSION_H_
