#include "compiler/codegen/jit/ObjectCache.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include <llvm/Config/llvm-config.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/SHA1.h>

#include "runtime/support/Interrupt.h"

namespace nnc::codegen {

namespace {

constexpr char kMagic[] = "NNCOBJ1\n";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr size_t kDigestSize = 20;

std::string hex(const std::array<uint8_t, kDigestSize>& digest) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : digest) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::array<uint8_t, kDigestSize> sha1(std::string_view bytes) {
  llvm::SHA1 h;
  h.update(llvm::StringRef(bytes.data(), bytes.size()));
  return h.final();
}

// What an entry's identity covers beyond the caller's key.
std::string fullKey(const std::string& key) {
  const char* llvmArgs = std::getenv("NNC_LLVM_ARGS");  // experiments change the code too
  const char* passes = std::getenv("NNC_LLVM_PIPELINE");
  return key + " llvm " + LLVM_VERSION_STRING + " pipeline " + std::to_string(kPipelineVersion) + " args " +
         (llvmArgs ? llvmArgs : "") + " passes " + (passes ? passes : "");
}

void putU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

bool getU64(std::string_view in, size_t& at, uint64_t& v) {
  if (in.size() - at < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[at + static_cast<size_t>(i)])) << (8 * i);
  at += 8;
  return true;
}

}  // namespace

std::string objectCacheDirectory() {
  const char* off = std::getenv("NNC_DISK_CACHE");
  if (off && std::string(off) == "0") return "";
  if (const char* dir = std::getenv("NNC_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/nnc";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/nnc";
  return "";
}

std::string objectCachePath(const std::string& dir, const std::string& key) {
  return dir + "/" + hex(sha1(fullKey(key))) + ".nncobj";
}

std::optional<std::vector<std::string>> loadObjects(const std::string& dir, const std::string& key) {
  if (dir.empty()) return std::nullopt;
  std::ifstream in(objectCachePath(dir, key), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string data = buffer.str();
  // magic, key length + key, count, (size + bytes) * count, SHA-1 of all before it
  if (data.size() < kMagicSize + kDigestSize || data.compare(0, kMagicSize, kMagic) != 0) return std::nullopt;
  std::string_view body(data.data(), data.size() - kDigestSize);
  std::array<uint8_t, kDigestSize> digest = sha1(body);
  if (std::memcmp(digest.data(), data.data() + body.size(), kDigestSize) != 0) return std::nullopt;
  size_t at = kMagicSize;
  uint64_t keySize = 0, count = 0;
  if (!getU64(body, at, keySize) || keySize > body.size() - at) return std::nullopt;
  if (body.substr(at, keySize) != fullKey(key)) return std::nullopt;  // a hash collision of file names
  at += keySize;
  if (!getU64(body, at, count) || count == 0 || count > 1024) return std::nullopt;
  std::vector<std::string> objects;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (!getU64(body, at, size) || size > body.size() - at) return std::nullopt;
    objects.emplace_back(body.substr(at, size));
    at += size;
  }
  if (at != body.size()) return std::nullopt;
  std::error_code ec;  // a hit is a use: the size bound evicts the least recently used first
  std::filesystem::last_write_time(objectCachePath(dir, key), std::filesystem::file_time_type::clock::now(), ec);
  return objects;
}

bool storeObjects(const std::string& dir, const std::string& key, const std::vector<std::string>& objects) {
  if (dir.empty() || objects.empty()) return false;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return false;
  std::string data(kMagic, kMagicSize);
  std::string full = fullKey(key);
  putU64(data, full.size());
  data += full;
  putU64(data, objects.size());
  for (const std::string& o : objects) {
    putU64(data, o.size());
    data += o;
  }
  std::array<uint8_t, kDigestSize> digest = sha1(data);
  data.append(reinterpret_cast<const char*>(digest.data()), kDigestSize);

  // A unique temporary name in the same directory, then an atomic rename over the entry.
  std::string path = objectCachePath(dir, key);
  static std::atomic<uint64_t> counter{0};
  std::string temp = path + ".tmp" + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  interrupt::TemporaryGuard removedOnSignal(temp.c_str());  // registered before it exists: never left behind
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temp, ec);
      return false;
    }
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return false;
  }
  trimObjectCache(dir, objectCacheLimitBytes());
  return true;
}

int64_t objectCacheLimitBytes() {
  if (const char* mb = std::getenv("NNC_CACHE_MAX_MB"); mb && *mb) {
    char* end = nullptr;
    long long v = std::strtoll(mb, &end, 10);
    if (end && *end == '\0' && v >= 0) return int64_t(v) << 20;
  }
  return int64_t(256) << 20;
}

void trimObjectCache(const std::string& dir, int64_t limitBytes) {
  struct Entry {
    std::filesystem::path path;
    std::filesystem::file_time_type used;
    int64_t bytes;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() != ".nncobj") continue;
    std::error_code e1, e2;
    auto bytes = it->file_size(e1);
    auto used = it->last_write_time(e2);
    if (e1 || e2) continue;
    entries.push_back({it->path(), used, int64_t(bytes)});
    total += int64_t(bytes);
  }
  if (total <= limitBytes) return;
  // Least recently used first: a hit refreshes its entry's time (loadObjects).
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& e : entries) {
    if (total <= limitBytes) break;
    if (std::filesystem::remove(e.path, ec)) total -= e.bytes;
  }
}

}  // namespace nnc::codegen
