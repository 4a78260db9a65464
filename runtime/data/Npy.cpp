#include "runtime/data/Npy.h"

#include <bit>
#include <cstring>
#include <optional>
#include <string_view>

#include "runtime/data/Elements.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/support/ByteReader.h"
#include "runtime/support/Checked.h"

namespace nnc::data {

static_assert(std::endian::native == std::endian::little, "the .npy writer stores the host's bytes as little-endian");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
// NumPy itself refuses headers over 10000 bytes by default (max_header_size); allow more,
// but not so much that a hostile length makes us read megabytes of "header".
constexpr uint32_t kMaxHeader = 1 << 20;

// A parsed Python literal, as far as .npy headers use them.
struct DictEntry;
struct PyValue {
  enum Kind { Str, Bool, None, Int, Tuple, List, Dict } kind = None;
  std::string str;
  bool boolean = false;
  uint64_t integer = 0;
  bool intTooBig = false;
  std::vector<PyValue> items;
  std::vector<DictEntry> entries;  // not pair<string, PyValue>: PyValue is incomplete here
};
struct DictEntry {
  std::string key;
  PyValue value;
};

// A recursive-descent parser for the dict literal NumPy writes (via repr()). Positions in
// errors are byte offsets into the header text.
class HeaderParser {
 public:
  explicit HeaderParser(const std::string& text) : s_(text) {}

  Result<PyValue> parseTop() {
    auto v = value(0);
    if (!v.ok()) return v;
    skipSpace();
    if (pos_ != s_.size()) return fail("unexpected text after the header dict");
    return v;
  }

 private:
  Error fail(const std::string& what) const {
    return makeError("malformed header at header byte " + std::to_string(pos_) + ": " + what);
  }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Result<PyValue> value(int depth) {
    if (depth > 16) return fail("nested too deeply");
    skipSpace();
    if (pos_ >= s_.size()) return fail("unexpected end of the header");
    char c = s_[pos_];
    if (c == '\'' || c == '"') return string();
    if (c == '{') return sequence(depth, '}', PyValue::Dict);
    if (c == '(') return sequence(depth, ')', PyValue::Tuple);
    if (c == '[') return sequence(depth, ']', PyValue::List);
    if (c >= '0' && c <= '9') return integer();
    for (auto [word, kind, b] : {std::tuple{"True", PyValue::Bool, true}, std::tuple{"False", PyValue::Bool, false},
                                 std::tuple{"None", PyValue::None, false}}) {
      size_t n = std::strlen(word);
      if (s_.compare(pos_, n, word) == 0) {
        pos_ += n;
        PyValue v;
        v.kind = kind;
        v.boolean = b;
        return v;
      }
    }
    return fail(std::string("unexpected character '") + c + "'");
  }

  Result<PyValue> string() {
    char quote = s_[pos_++];
    PyValue v;
    v.kind = PyValue::Str;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      v.str += s_[pos_++];
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    ++pos_;
    return v;
  }

  Result<PyValue> integer() {
    PyValue v;
    v.kind = PyValue::Int;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      auto m = io::checkedMul(v.integer, 10);
      auto a = m ? io::checkedAdd(*m, uint64_t(s_[pos_] - '0')) : std::nullopt;
      if (!a) v.intTooBig = true;
      else v.integer = *a;
      ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;  // Python 2 long
    return v;
  }

  Result<PyValue> sequence(int depth, char close, PyValue::Kind kind) {
    ++pos_;
    PyValue v;
    v.kind = kind;
    while (true) {
      if (eat(close)) return v;
      if (kind == PyValue::Dict) {
        skipSpace();
        if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return fail("expected a quoted key");
        auto key = string();
        if (!key.ok()) return key;
        if (!eat(':')) return fail("expected ':' after key '" + key->str + "'");
        auto val = value(depth + 1);
        if (!val.ok()) return val;
        v.entries.push_back(DictEntry{key->str, std::move(*val)});
      } else {
        auto item = value(depth + 1);
        if (!item.ok()) return item;
        v.items.push_back(std::move(*item));
      }
      if (eat(close)) return v;
      if (!eat(',')) return fail(std::string("expected ',' or '") + close + "'");
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

struct Descr {
  ElemKind kind;
  bool bigEndian;
};

const char* kSupported = "'<f2' '<f4' '<f8' '|i1' '<i2' '<i4' '<i8' '|u1' '<u2' '<u4' '<u8' '|b1'";

Result<Descr> parseDescr(const std::string& path, const std::string& d) {
  auto unsupported = [&](const std::string& why) {
    return makeError(path + ": unsupported dtype '" + d + "'" + why + "; supported: " + kSupported +
                     " (save with e.g. arr.astype(np.float32))");
  };
  // A leading byte-order mark ('<' little, '>' big, '|' not applicable, '=' native), then
  // the kind and the item size. Without a mark, native order.
  const bool marked = !d.empty() && std::string_view("<>|=").find(d[0]) != std::string_view::npos;
  const char order = marked ? d[0] : '=';
  const std::string rest = marked ? d.substr(1) : d;
  // '|O' (also 'O', '|O8' in old files): references to pickled Python objects.
  if (!rest.empty() && rest[0] == 'O')
    return makeError(path + ": dtype '" + d +
                     "' holds pickled Python objects; nnc never unpickles data (unpickling can run arbitrary "
                     "code). Save a numeric array instead, e.g. np.save(path, np.asarray(arr, dtype=np.float32))");
  static const std::pair<const char*, ElemKind> kinds[] = {
      {"f2", ElemKind::F16}, {"f4", ElemKind::F32}, {"f8", ElemKind::F64}, {"i1", ElemKind::I8},
      {"i2", ElemKind::I16}, {"i4", ElemKind::I32}, {"i8", ElemKind::I64}, {"u1", ElemKind::U8},
      {"u2", ElemKind::U16}, {"u4", ElemKind::U32}, {"u8", ElemKind::U64}, {"b1", ElemKind::Bool}};
  for (auto& [name, kind] : kinds)
    if (rest == name) return Descr{kind, order == '>'};
  switch (rest.empty() ? ' ' : rest[0]) {
    case 'U': case 'S': case 'a': return unsupported(" (strings)");
    case 'c': return unsupported(" (complex numbers)");
    case 'M': case 'm': return unsupported(" (dates and times)");
    case 'V': return unsupported(" (raw or structured records)");
    default: return unsupported("");
  }
}

std::string shapeTuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

Result<Array> loadNpy(const std::string& path) {
  auto opened = io::ByteReader::open(path);
  if (!opened.ok()) return opened.error();
  io::ByteReader& in = *opened;

  // Preamble: magic (6 bytes), version (2), header length (2 in 1.0, 4 in 2.0 and 3.0).
  uint8_t pre[12];
  auto got = in.read(pre, 8);
  if (!got.ok()) return got.error();
  if (*got == 0) return makeError(path + ": empty file: expected a NumPy .npy file");
  if (*got < kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0) {
    bool zip = *got >= 2 && pre[0] == 'P' && pre[1] == 'K';
    return makeError(path + ": not a NumPy .npy file: it does not start with the magic \"\\x93NUMPY\"" +
                     std::string(zip ? " (it is a zip archive, perhaps an .npz: save each array with np.save)" : ""));
  }
  if (*got < 8) return makeError(path + ": truncated: the file ends inside the .npy preamble (" + std::to_string(*got) + " bytes)");
  const int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    return makeError(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  const size_t lenBytes = major == 1 ? 2 : 4;
  got = in.read(pre + 8, lenBytes);
  if (!got.ok()) return got.error();
  if (*got < lenBytes) return makeError(path + ": truncated: the file ends inside the .npy header length");
  uint32_t headerLen = uint32_t(pre[8]) | (uint32_t(pre[9]) << 8);
  if (major != 1) headerLen |= (uint32_t(pre[10]) << 16) | (uint32_t(pre[11]) << 24);
  const uint64_t dataStart = 8 + lenBytes + uint64_t(headerLen);
  if (headerLen > kMaxHeader)
    return makeError(path + ": the .npy header length " + std::to_string(headerLen) +
                     " bytes is implausibly large (limit " + std::to_string(kMaxHeader) + ")");
  if (auto rem = in.remaining(); rem && *rem < headerLen)
    return makeError(path + ": truncated: the .npy header claims " + std::to_string(headerLen) +
                     " bytes but the file holds " + std::to_string(*rem) + " after the preamble");
  std::vector<uint8_t> headerBytes;
  auto hgot = in.readUpTo(headerBytes, headerLen);
  if (!hgot.ok()) return hgot.error();
  if (*hgot < headerLen)
    return makeError(path + ": truncated: the .npy header claims " + std::to_string(headerLen) +
                     " bytes but the file holds " + std::to_string(*hgot) + " after the preamble");
  std::string header(headerBytes.begin(), headerBytes.end());
  if (header.find('\0') != std::string::npos)
    return makeError(path + ": malformed .npy header: it contains a NUL byte");

  auto parsed = HeaderParser(header).parseTop();
  if (!parsed.ok()) return makeError(path + ": " + parsed.error().message);
  if (parsed->kind != PyValue::Dict)
    return makeError(path + ": malformed .npy header: expected a dict {'descr': ..., 'fortran_order': ..., 'shape': ...}");
  const PyValue *descr = nullptr, *fortran = nullptr, *shapeV = nullptr;
  for (auto& [key, v] : parsed->entries) {
    if (key == "descr") descr = &v;
    else if (key == "fortran_order") fortran = &v;
    else if (key == "shape") shapeV = &v;
  }
  for (auto [name, v] : {std::pair{"descr", descr}, std::pair{"fortran_order", fortran}, std::pair{"shape", shapeV}})
    if (!v) return makeError(path + ": malformed .npy header: the key '" + name + "' is missing");
  if (descr->kind == PyValue::List)
    return makeError(path + ": unsupported structured dtype (a record with named fields); save each field as its own .npy file");
  if (descr->kind != PyValue::Str) return makeError(path + ": malformed .npy header: 'descr' is not a string");
  auto d = parseDescr(path, descr->str);
  if (!d.ok()) return d.error();
  if (fortran->kind != PyValue::Bool) return makeError(path + ": malformed .npy header: 'fortran_order' is not True or False");
  if (fortran->boolean)
    return makeError(path + ": fortran_order is True (column-major data); nnc reads C-order arrays only: "
                     "save with np.save(path, np.ascontiguousarray(arr))");
  if (shapeV->kind != PyValue::Tuple && shapeV->kind != PyValue::List)
    return makeError(path + ": malformed .npy header: 'shape' is not a tuple of integers");
  std::vector<int64_t> shape;
  for (auto& dim : shapeV->items) {
    if (dim.kind != PyValue::Int) return makeError(path + ": malformed .npy header: 'shape' is not a tuple of integers");
    if (dim.intTooBig || dim.integer > uint64_t(INT64_MAX))
      return makeError(path + ": absurd shape in the .npy header: a dimension does not fit in 64 bits");
    shape.push_back(int64_t(dim.integer));
  }

  const size_t esize = elemSize(d->kind);
  auto count = io::checkedProduct(shape);
  auto bytes = count ? io::checkedMul(*count, esize) : std::nullopt;
  if (!bytes || *bytes > uint64_t(INT64_MAX))
    return makeError(path + ": absurd shape " + shapeTuple(shape) + " in the .npy header: it would need more than 2^63 bytes");
  const std::string claim = "header claims shape " + shapeTuple(shape) + " of " + elemKindName(d->kind) + " (" +
                            std::to_string(*bytes) + " bytes)";
  if (auto rem = in.remaining()) {
    if (*rem < *bytes)
      return makeError(path + ": truncated: " + claim + " but the file holds " + std::to_string(*rem) +
                       " bytes of data after the header");
    if (*rem > *bytes)
      return makeError(path + ": " + std::to_string(*rem - *bytes) + (*rem - *bytes == 1 ? " byte" : " bytes") + " of trailing garbage after the data: " +
                       claim + ", ending at byte offset " + std::to_string(dataStart + *bytes));
  }
  std::vector<uint8_t> payload;
  auto have = in.readUpTo(payload, *bytes);
  if (!have.ok()) return have.error();
  if (*have < *bytes)
    return makeError(path + ": truncated: " + claim + " but the file holds " + std::to_string(*have) +
                     " bytes of data after the header");
  auto extra = in.skipRest(uint64_t(1) << 30);
  if (!extra.ok()) return extra.error();
  if (*extra > 0)
    return makeError(path + ": trailing garbage after the data: " + claim + ", ending at byte offset " +
                     std::to_string(dataStart + *bytes));
  return decodeElements(payload, d->kind, d->bigEndian, std::move(shape), naturalDType(d->kind), path);
}

std::vector<uint8_t> encodeNpy(const Array& a) {
  std::string dict = std::string("{'descr': '") + (a.dtype() == DType::F32 ? "<f4" : "<i4") +
                     "', 'fortran_order': False, 'shape': " + shapeTuple(a.shape()) + ", }";
  // NumPy pads the header with spaces and a final newline so the data starts at a multiple
  // of 64 bytes (aligned for memory mapping).
  auto build = [&](size_t lenBytes) {
    size_t unpadded = kMagicLen + 2 + lenBytes + dict.size() + 1;
    size_t padded = (unpadded + 63) / 64 * 64;
    return dict + std::string(padded - unpadded, ' ') + "\n";
  };
  std::string header = build(2);
  int major = 1;
  if (header.size() > 65535) {
    header = build(4);
    major = 2;
  }
  std::vector<uint8_t> out(kMagic, kMagic + kMagicLen);
  out.push_back(uint8_t(major));
  out.push_back(0);
  uint32_t len = uint32_t(header.size());
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) out.push_back(uint8_t(len >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  const auto* p = static_cast<const uint8_t*>(a.data());
  out.insert(out.end(), p, p + a.byteSize());
  return out;
}

Result<void> saveNpy(const std::string& path, const Array& a) {
  // Encoding first means a whole prediction is held twice in memory, but a .npy of
  // predictions is small next to the data that produced it; in exchange the atomic write is
  // a single call.
  auto bytes = encodeNpy(a);
  return io::writeFileAtomically(path, bytes.data(), bytes.size());
}

}  // namespace nnc::data
