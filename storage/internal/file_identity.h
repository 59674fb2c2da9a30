// The identity of a file as the file system keeps it, which a copy of the
// file does not share.
#ifndef RECONDB_STORAGE_INTERNAL_FILE_IDENTITY_H_
#define RECONDB_STORAGE_INTERNAL_FILE_IDENTITY_H_

#include <string>

namespace recondb::storage::internal {

// "ino=<inode> btime=<seconds>.<nanoseconds>" of the file at `path`: a
// copy, a restored backup or an unpacked archive is a new file, with a new
// birth time even where the inode number is reused. The device number is
// left out on purpose: it can change between boots (device-mapper, USB
// disks, overlay mounts) for the very same file. "ino=<inode>" alone where
// the file system keeps no birth time; empty if the file cannot be
// examined. A block-level disk image or a file system snapshot keeps both,
// so this is a hint, not a proof (the feed's incarnations are the proof).
std::string FileIdentity(const std::string& path);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_FILE_IDENTITY_H_
