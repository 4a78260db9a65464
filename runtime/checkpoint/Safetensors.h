#pragma once
// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors): an
// 8-byte little-endian header length N, N bytes of JSON
//   {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "string value", ...}}
// then the data buffer the offsets index (relative to its start), tensors little-endian and
// row-major. Files written here can be read by the Python safetensors library and vice versa.
#include <map>
#include <string>

#include "runtime/data/Array.h"
#include "runtime/support/AtomicFile.h"

namespace nnc::ckpt {

struct Checkpoint {
  // Sorted by name: the writer's deterministic order.
  std::map<std::string, data::Array> tensors;
  std::map<std::string, std::string> metadata;
};

// Reads and validates a whole file before using any of it: the header length (at most
// 100 MiB and within the file), the JSON (an object, no duplicate names), each tensor's dtype,
// shape (non-negative integers) and offsets (inside the data buffer, exactly the size the
// shape needs, computed without overflow, not overlapping another tensor), and metadata
// values being strings. F32 and I32 load as they are; F64, F16, BF16 become f32 and
// I64, I8, I16, U8, U16, U32, U64, BOOL become i32, with range checks. Errors name the
// file and the tensor.
Result<Checkpoint> readSafetensors(const std::string& path);

// Writes the tensors (F32 or I32) in name order with the metadata, atomically: a temporary
// file in the same directory, fsync, rename over `path`. On failure (directory missing, a
// path component that is a file, permission denied, disk full) the temporary is removed, a
// previous file at `path` is left intact, and the Error says why.
Result<void> writeSafetensors(const std::string& path, const Checkpoint& checkpoint);

// Before training: fails early when `path` could not be written later (see AtomicFile.h).
using io::checkWritableDestination;

}  // namespace nnc::ckpt
