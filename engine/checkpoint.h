// A receiver's replication checkpoint for one source.
#ifndef RECONDB_ENGINE_CHECKPOINT_H_
#define RECONDB_ENGINE_CHECKPOINT_H_

#include <cstdint>
#include <string>

namespace recondb::engine {

// A durable replication checkpoint, written in the same transaction as the
// revisions it covers: "everything the source numbered up to `seq` is here".
struct Checkpoint {
  std::string key;  // Opaque to the engine (the reconciler names sources).
  int64_t seq = 0;
  // The source's incarnation whose feed `seq` numbers (its Engine::
  // incarnation()), so that the source can verify the checkpoint before it
  // resumes from it (Engine::ResumePoint). Empty if unknown (an old peer, or
  // a checkpoint written before incarnations existed): such a checkpoint is
  // never trusted.
  std::string source_incarnation;
};

}  // namespace recondb::engine

#endif  // RECONDB_ENGINE_CHECKPOINT_H_
