#pragma once
// Internal: compiled models on disk, so that a model compiled by one process (`nnc train`)
// links in the next (`nnc predict`) without optimising or compiling again. An entry holds
// the object files of one compiled module under the in-process cache's key (a hash of the IR,
// the CPU name and features, the optimisation level) plus the LLVM version, kPipelineVersion
// and NNC_LLVM_ARGS, so code from another compiler never loads.
//
// Location: $NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc, else $HOME/.cache/nnc.
// NNC_DISK_CACHE=0 turns it off (as does CompileOptions::diskCache = false). It holds at
// most NNC_CACHE_MAX_MB (default 256) MiB, evicting the least recently used entries.
// Entries are written to a temporary file and renamed into place, so readers never see half
// an entry; an entry that fails its checksum is ignored and rewritten. Every failure here is
// silent: the cache only ever saves work.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc::codegen {

// Bump when the optimisation pipeline or the code generator's settings (Jit.cpp) change:
// the same IR would then compile to different code.
constexpr int kPipelineVersion = 3;

// The cache directory, or "" when the cache is off or no location is known.
std::string objectCacheDirectory();

// The objects stored under `key` in `dir`, or nothing when absent, unreadable or corrupt.
std::optional<std::vector<std::string>> loadObjects(const std::string& dir, const std::string& key);

// Stores `objects` under `key` (creating `dir`); returns whether it was written.
bool storeObjects(const std::string& dir, const std::string& key, const std::vector<std::string>& objects);

// The cache's size bound: NNC_CACHE_MAX_MB (default 256 MiB).
int64_t objectCacheLimitBytes();

// Removes least recently used entries until those in `dir` total at most `limitBytes`
// (storeObjects calls it after each store).
void trimObjectCache(const std::string& dir, int64_t limitBytes);

// The file an entry lives in (for tests).
std::string objectCachePath(const std::string& dir, const std::string& key);

}  // namespace nnc::codegen
