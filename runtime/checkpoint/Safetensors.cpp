#include "runtime/checkpoint/Safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "runtime/data/Elements.h"
#include "runtime/support/ByteReader.h"
#include "runtime/support/Checked.h"

namespace nnc::ckpt {

static_assert(std::endian::native == std::endian::little, "safetensors data is written as the host's bytes");

using data::ElemKind;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxHeader = uint64_t(100) << 20;  // the reference implementation's limit
constexpr const char* kMetadataKey = "__metadata__";

std::optional<ElemKind> kindOf(const std::string& dtype) {
  static const std::pair<const char*, ElemKind> kinds[] = {
      {"F32", ElemKind::F32}, {"I32", ElemKind::I32}, {"F64", ElemKind::F64}, {"I64", ElemKind::I64},
      {"F16", ElemKind::F16}, {"BF16", ElemKind::BF16}, {"I8", ElemKind::I8}, {"U8", ElemKind::U8},
      {"I16", ElemKind::I16}, {"U16", ElemKind::U16}, {"U32", ElemKind::U32}, {"U64", ElemKind::U64},
      {"BOOL", ElemKind::Bool}};
  for (auto& [name, kind] : kinds)
    if (dtype == name) return kind;
  return std::nullopt;
}

// A tensor entry once validated.
struct Entry {
  std::string name;
  ElemKind kind;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

std::optional<uint64_t> asUnsigned(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return uint64_t(v.get<int64_t>());
  return std::nullopt;
}

}  // namespace

Result<Checkpoint> readSafetensors(const std::string& path) {
  auto opened = io::ByteReader::open(path);
  if (!opened.ok()) return opened.error();
  io::ByteReader& in = *opened;
  auto size = in.remaining();
  if (!size) return makeError(path + ": not a plain regular file (safetensors files are not compressed)");
  if (*size < 8)
    return makeError(path + ": truncated: the file holds " + std::to_string(*size) +
                     " bytes, fewer than the 8-byte safetensors header length");
  uint8_t lenBytes[8];
  auto got = in.read(lenBytes, 8);
  if (!got.ok()) return got.error();
  if (*got < 8) return makeError(path + ": truncated: the file ends inside the header length");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | lenBytes[i];
  if (headerLen > kMaxHeader)
    return makeError(path + ": not a safetensors file or corrupt: header length " + std::to_string(headerLen) +
                     " exceeds the 100 MiB limit");
  if (headerLen > *size - 8)
    return makeError(path + ": truncated header: the header length says " + std::to_string(headerLen) +
                     " bytes of JSON but only " + std::to_string(*size - 8) + " bytes follow");
  const uint64_t dataSize = *size - 8 - headerLen;

  std::vector<uint8_t> headerBytes;
  auto hgot = in.readUpTo(headerBytes, headerLen);
  if (!hgot.ok()) return hgot.error();
  if (*hgot < headerLen) return makeError(path + ": truncated header: the file ended while reading it");

  // Parse; the callback spots a name given twice, which nlohmann would silently collapse.
  json header;
  std::string duplicate;
  try {
    std::set<std::string> seen;
    json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() &&
          !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    };
    header = json::parse(headerBytes.begin(), headerBytes.end(), cb);
  } catch (const json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to users.
    std::string what = e.what();
    if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    return makeError(path + ": the safetensors header is not valid JSON: " + what);
  }
  if (!header.is_object()) return makeError(path + ": the safetensors header is not a JSON object");
  if (!duplicate.empty()) return makeError(path + ": tensor '" + duplicate + "' appears twice in the header");

  Checkpoint ckpt;
  std::vector<Entry> entries;
  for (auto& [name, v] : header.items()) {
    const std::string where = path + ": tensor '" + name + "': ";
    if (name == kMetadataKey) {
      if (!v.is_object()) return makeError(path + ": __metadata__ is not a JSON object of strings");
      for (auto& [key, value] : v.items()) {
        if (!value.is_string())
          return makeError(path + ": __metadata__ value for '" + key + "' is not a string (it is " + value.dump() + ")");
        ckpt.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (name.empty()) return makeError(path + ": a tensor has an empty name");
    if (!v.is_object()) return makeError(where + "the entry is not a JSON object");
    if (!v.contains("dtype") || !v["dtype"].is_string()) return makeError(where + "missing or non-string \"dtype\"");
    const std::string dtype = v["dtype"].get<std::string>();
    auto kind = kindOf(dtype);
    if (!kind)
      return makeError(where + "unknown dtype '" + dtype + "' (supported: F32, I32, F64, I64, F16, BF16, I8, I16, U8, U16, U32, U64, BOOL)");
    if (!v.contains("shape") || !v["shape"].is_array())
      return makeError(where + "missing \"shape\" (a list of non-negative integers)");
    std::vector<int64_t> shape;
    for (auto& d : v["shape"]) {
      auto u = asUnsigned(d);
      if (!u || *u > uint64_t(INT64_MAX))
        return makeError(where + "shape " + v["shape"].dump() + " is not a list of non-negative integers");
      shape.push_back(int64_t(*u));
    }
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      return makeError(where + "missing \"data_offsets\" (a list [begin, end])");
    auto begin = asUnsigned(v["data_offsets"][0]), end = asUnsigned(v["data_offsets"][1]);
    if (!begin || !end) return makeError(where + "data_offsets " + v["data_offsets"].dump() + " are not non-negative integers");
    if (*begin > *end)
      return makeError(where + "data_offsets " + v["data_offsets"].dump() + " end before they begin");
    if (*end > dataSize)
      return makeError(where + "data_offsets " + v["data_offsets"].dump() + " go past the end of the data (" +
                       std::to_string(dataSize) + " bytes after the header): the file is truncated or corrupt");
    auto count = io::checkedProduct(shape);
    auto bytes = count ? io::checkedMul(*count, data::elemSize(*kind)) : std::nullopt;
    if (!bytes || *bytes != *end - *begin)
      return makeError(where + "data_offsets " + v["data_offsets"].dump() + " hold " + std::to_string(*end - *begin) +
                       " bytes but shape " + data::shapeString(shape) + " of " + dtype + " needs " +
                       (bytes ? std::to_string(*bytes) : std::string("more than 2^64")));
    entries.push_back({name, *kind, std::move(shape), *begin, *end});
  }

  // No two tensors may share bytes; empty tensors own none.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  const Entry* last = nullptr;
  for (auto& e : entries) {
    if (e.begin == e.end) continue;
    if (last && e.begin < last->end)
      return makeError(path + ": tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
                       std::to_string(e.end) + "] overlap those of tensor '" + last->name + "' [" +
                       std::to_string(last->begin) + ", " + std::to_string(last->end) + "]");
    last = &e;
  }

  // Read in offset order, so the file is read once, front to back.
  uint64_t pos = 0;
  std::vector<uint8_t> raw, skip;
  for (auto& e : entries) {
    if (e.begin == e.end) {
      ckpt.tensors[e.name] = data::Array::zeros(data::naturalDType(e.kind), e.shape);
      continue;
    }
    skip.clear();
    auto skipped = in.readUpTo(skip, e.begin - pos);  // a gap between tensors
    if (!skipped.ok()) return skipped.error();
    raw.clear();
    auto rgot = in.readUpTo(raw, e.end - e.begin);
    if (!rgot.ok()) return rgot.error();
    if (*skipped < e.begin - pos || *rgot < e.end - e.begin)
      return makeError(path + ": tensor '" + e.name + "': truncated data (the file changed while being read?)");
    pos = e.end;
    auto arr = data::decodeElements(raw, e.kind, /*bigEndian=*/false, e.shape, data::naturalDType(e.kind),
                                    path + ": tensor '" + e.name + "'");
    if (!arr.ok()) return arr.error();
    ckpt.tensors[e.name] = std::move(*arr);
  }
  return ckpt;
}

Result<void> writeSafetensors(const std::string& path, const Checkpoint& ckpt) {
  json header = json::object();
  uint64_t offset = 0;
  for (auto& [name, t] : ckpt.tensors) {  // std::map: sorted, so the file is deterministic
    if (name.empty() || name == kMetadataKey)
      return makeError("cannot write '" + path + "': invalid tensor name '" + name + "'");
    uint64_t bytes = t.byteSize();
    header[name] = {{"dtype", t.dtype() == data::DType::F32 ? "F32" : "I32"},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!ckpt.metadata.empty()) header[kMetadataKey] = ckpt.metadata;
  std::string text;
  try {
    text = header.dump();  // throws on names or values that are not valid UTF-8
  } catch (const json::exception& e) {
    return makeError("cannot write '" + path + "': a tensor name or metadata value is not valid UTF-8: " + e.what());
  }
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');

  auto file = io::AtomicFile::create(path);
  if (!file.ok()) return file.error();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
  NNC_TRY(file->write(len, 8));
  NNC_TRY(file->write(text.data(), text.size()));
  for (auto& [name, t] : ckpt.tensors) NNC_TRY(file->write(t.data(), t.byteSize()));
  return file->commit();
}

}  // namespace nnc::ckpt
