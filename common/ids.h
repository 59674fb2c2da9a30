// Identifier generation: time-ordered record ids and random node ids.
#ifndef RECONDB_COMMON_IDS_H_
#define RECONDB_COMMON_IDS_H_

#include <cstdint>
#include <string>

namespace recondb {

// Returns a UUIDv7 (RFC 9562) for `unix_millis`, in canonical lowercase
// 8-4-4-4-12 form. Ids made in the same millisecond by one process stay
// ordered (a 12-bit counter in rand_a). Thread-safe.
std::string NewUuidV7(int64_t unix_millis);

// Returns a random UUIDv4 in canonical lowercase form. Thread-safe.
std::string NewUuidV4();

}  // namespace recondb

#endif  // RECONDB_COMMON_IDS_H_
