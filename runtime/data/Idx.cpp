#include "runtime/data/Idx.h"

#include <cstdio>

#include "runtime/data/Elements.h"
#include "runtime/support/ByteReader.h"
#include "runtime/support/Checked.h"

namespace nnc::data {

namespace {

std::optional<ElemKind> idxKind(uint8_t code) {
  switch (code) {
    case 0x08: return ElemKind::U8;
    case 0x09: return ElemKind::I8;
    case 0x0B: return ElemKind::I16;
    case 0x0C: return ElemKind::I32;
    case 0x0D: return ElemKind::F32;
    case 0x0E: return ElemKind::F64;
    default: return std::nullopt;
  }
}

std::string hexBytes(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    if (i) s += ' ';
    s += buf;
  }
  return s;
}

// "60000 images of 28x28", "60000 labels": what the header claims, in the user's terms.
std::string describe(const std::vector<int64_t>& dims, ElemKind kind) {
  std::string s = std::to_string(dims[0]);
  if (dims.size() == 1) return s + (isFloatKind(kind) ? " values" : " labels");
  s += kind == ElemKind::U8 && dims.size() >= 3 ? " images of " : " samples of ";
  for (size_t i = 1; i < dims.size(); ++i) {
    if (i > 1) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

}  // namespace

Result<Array> loadIdx(const std::string& path, std::optional<DType> as) {
  auto opened = io::ByteReader::open(path);
  if (!opened.ok()) return opened.error();
  io::ByteReader& in = *opened;
  const std::string where = in.isGzip() ? "the decompressed file" : "the file";

  uint8_t magic[4];
  auto got = in.read(magic, 4);
  if (!got.ok()) return got.error();
  if (*got == 0) return makeError(path + ": empty file: expected an IDX file (magic number 00 00 08 03 for images, 00 00 08 01 for labels)");
  if (*got < 4)
    return makeError(path + ": truncated: " + where + " holds " + std::to_string(*got) +
                     " bytes, fewer than the 4-byte IDX magic number");
  if (magic[0] != 0 || magic[1] != 0)
    return makeError(path + ": not an IDX file: wrong magic number " + hexBytes(magic, 4) +
                     " (an IDX file starts with 00 00 TYPE RANK, e.g. 00 00 08 03 for images, 00 00 08 01 for labels)");
  auto kind = idxKind(magic[2]);
  if (!kind) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02X", magic[2]);
    return makeError(path + ": wrong magic number " + hexBytes(magic, 4) + ": unknown IDX element type " + code +
                     " (known: 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double)");
  }
  const int rank = magic[3];
  if (rank == 0)
    return makeError(path + ": magic number " + hexBytes(magic, 4) +
                     " declares rank 0; an IDX file needs at least one dimension (the number of samples)");

  std::vector<uint8_t> dimBytes;
  auto dimGot = in.readUpTo(dimBytes, uint64_t(rank) * 4);
  if (!dimGot.ok()) return dimGot.error();
  if (*dimGot < uint64_t(rank) * 4)
    return makeError(path + ": truncated header: a rank-" + std::to_string(rank) + " IDX file needs " +
                     std::to_string(4 + rank * 4) + " header bytes but " + where + " holds " +
                     std::to_string(4 + *dimGot));
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    const uint8_t* d = dimBytes.data() + 4 * i;
    dims[size_t(i)] = int64_t((uint32_t(d[0]) << 24) | (uint32_t(d[1]) << 16) | (uint32_t(d[2]) << 8) | d[3]);
  }

  const size_t esize = elemSize(*kind);
  auto count = io::checkedProduct(dims);
  auto bytes = count ? io::checkedMul(*count, esize) : std::nullopt;
  if (!bytes || *bytes > uint64_t(INT64_MAX))
    return makeError(path + ": absurd dimensions in the IDX header: " + shapeString(dims) +
                     " would need more than 2^63 bytes");
  const std::string claim = "header claims " + describe(dims, *kind) + " (" + std::to_string(*bytes) + " bytes)";
  const uint64_t headerSize = 4 + 4 * uint64_t(rank);

  // A plain file's size is known: compare before reading (or allocating) anything.
  if (auto rem = in.remaining()) {
    if (*rem < *bytes)
      return makeError(path + ": truncated: " + claim + " but the file holds " + std::to_string(*rem) +
                       " bytes of data");
    if (*rem > *bytes)
      return makeError(path + ": " + std::to_string(*rem - *bytes) + (*rem - *bytes == 1 ? " byte" : " bytes") + " of trailing garbage after the data: " +
                       claim + ", ending at byte offset " + std::to_string(headerSize + *bytes));
  }
  std::vector<uint8_t> payload;
  auto have = in.readUpTo(payload, *bytes);
  if (!have.ok()) return have.error();
  if (*have < *bytes)
    return makeError(path + ": truncated: " + claim + " but " + where + " holds " + std::to_string(*have) +
                     " bytes of data");
  auto extra = in.skipRest(uint64_t(1) << 30);
  if (!extra.ok()) return extra.error();
  if (*extra > 0)
    return makeError(path + ": " + (*extra > (uint64_t(1) << 30) ? "over 1 GiB" : std::to_string(*extra) + " bytes") +
                     " of trailing garbage after the data: " + claim + ", ending at byte offset " +
                     std::to_string(headerSize + *bytes));

  DType to = as ? *as : (isFloatKind(*kind) || rank >= 2 ? DType::F32 : DType::I32);
  return decodeElements(payload, *kind, /*bigEndian=*/true, std::move(dims), to, path);
}

}  // namespace nnc::data
