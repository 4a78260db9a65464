#include "runtime/data/Elements.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace nnc::data {

size_t elemSize(ElemKind k) {
  switch (k) {
    case ElemKind::Bool: case ElemKind::U8: case ElemKind::I8: return 1;
    case ElemKind::I16: case ElemKind::U16: case ElemKind::F16: case ElemKind::BF16: return 2;
    case ElemKind::I32: case ElemKind::U32: case ElemKind::F32: return 4;
    case ElemKind::I64: case ElemKind::U64: case ElemKind::F64: return 8;
  }
  return 1;
}

bool isFloatKind(ElemKind k) {
  return k == ElemKind::F16 || k == ElemKind::BF16 || k == ElemKind::F32 || k == ElemKind::F64;
}

DType naturalDType(ElemKind k) { return isFloatKind(k) ? DType::F32 : DType::I32; }

const char* elemKindName(ElemKind k) {
  switch (k) {
    case ElemKind::Bool: return "bool";
    case ElemKind::U8: return "uint8";
    case ElemKind::I8: return "int8";
    case ElemKind::I16: return "int16";
    case ElemKind::U16: return "uint16";
    case ElemKind::I32: return "int32";
    case ElemKind::U32: return "uint32";
    case ElemKind::I64: return "int64";
    case ElemKind::U64: return "uint64";
    case ElemKind::F16: return "float16";
    case ElemKind::BF16: return "bfloat16";
    case ElemKind::F32: return "float32";
    case ElemKind::F64: return "float64";
  }
  return "?";
}

namespace {

// An unsigned integer of sizeof(U) bytes stored in the given byte order.
template <typename U>
U loadRaw(const uint8_t* p, bool bigEndian) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if (sizeof(U) > 1 && bigEndian != (std::endian::native == std::endian::big)) {
    U r = 0;
    for (size_t i = 0; i < sizeof(U); ++i) r = U(r << 8) | U((v >> (8 * i)) & 0xff);
    v = r;
  }
  return v;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  int exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    float f = std::ldexp(float(mant), -24);
    return sign ? -f : f;
  }
  uint32_t bits = exp == 31 ? sign | 0x7f800000u | (mant << 13) : sign | (uint32_t(exp - 15 + 127) << 23) | (mant << 13);
  return std::bit_cast<float>(bits);
}

// One element as a double (exact for every integer kind up to 2^53 and for every float kind)
// plus, for 64-bit integers, the exact value for range checks.
struct Value {
  double d;
  bool isInt;
  int64_t i;      // valid when isInt and !bigUnsigned
  bool bigUnsigned;  // a uint64 above INT64_MAX
  uint64_t u;
};

Value load(const uint8_t* p, ElemKind k, bool be) {
  switch (k) {
    case ElemKind::Bool: return {double(p[0] != 0), true, p[0] != 0, false, 0};
    case ElemKind::U8: return {double(p[0]), true, p[0], false, 0};
    case ElemKind::I8: return {double(int8_t(p[0])), true, int8_t(p[0]), false, 0};
    case ElemKind::I16: { auto v = int16_t(loadRaw<uint16_t>(p, be)); return {double(v), true, v, false, 0}; }
    case ElemKind::U16: { auto v = loadRaw<uint16_t>(p, be); return {double(v), true, v, false, 0}; }
    case ElemKind::I32: { auto v = int32_t(loadRaw<uint32_t>(p, be)); return {double(v), true, v, false, 0}; }
    case ElemKind::U32: { auto v = loadRaw<uint32_t>(p, be); return {double(v), true, int64_t(v), false, 0}; }
    case ElemKind::I64: { auto v = int64_t(loadRaw<uint64_t>(p, be)); return {double(v), true, v, false, 0}; }
    case ElemKind::U64: {
      auto v = loadRaw<uint64_t>(p, be);
      bool big = v > uint64_t(INT64_MAX);
      return {double(v), true, big ? 0 : int64_t(v), big, v};
    }
    case ElemKind::F16: return {double(halfToFloat(loadRaw<uint16_t>(p, be))), false, 0, false, 0};
    case ElemKind::BF16: return {double(std::bit_cast<float>(uint32_t(loadRaw<uint16_t>(p, be)) << 16)), false, 0, false, 0};
    case ElemKind::F32: return {double(std::bit_cast<float>(loadRaw<uint32_t>(p, be))), false, 0, false, 0};
    case ElemKind::F64: return {std::bit_cast<double>(loadRaw<uint64_t>(p, be)), false, 0, false, 0};
  }
  return {0, false, 0, false, 0};
}

std::string valueText(const Value& v) {
  if (v.bigUnsigned) return std::to_string(v.u);
  if (v.isInt) return std::to_string(v.i);
  std::ostringstream os;
  os.precision(17);
  os << v.d;
  return os.str();
}

}  // namespace

Result<Array> decodeElements(std::span<const uint8_t> bytes, ElemKind kind, bool bigEndian,
                             std::vector<int64_t> shape, DType to, const std::string& what) {
  const size_t size = elemSize(kind);
  const size_t n = bytes.size() / size;
  const uint8_t* p = bytes.data();
  auto bad = [&](size_t i, const Value& v, const std::string& why) {
    return makeError(what + ": element " + std::to_string(i) + " (" + elemKindName(kind) + " value " +
                     valueText(v) + ") " + why);
  };
  if (to == DType::F32) {
    std::vector<float> out(n);
    // The common cases get a direct loop; the generic path is exact but slower.
    if (kind == ElemKind::U8) {
      for (size_t i = 0; i < n; ++i) out[i] = float(p[i]);
    } else {
      for (size_t i = 0; i < n; ++i) {
        Value v = load(p + i * size, kind, bigEndian);
        // A finite float64 beyond float32's range would silently become infinity.
        if (kind == ElemKind::F64 && std::isfinite(v.d) && std::fabs(v.d) > double(std::numeric_limits<float>::max()))
          return bad(i, v, "is too large for f32");
        out[i] = float(v.d);
      }
    }
    return Array::fromF32(std::move(shape), std::move(out));
  }
  std::vector<int32_t> out(n);
  if (kind == ElemKind::U8) {
    for (size_t i = 0; i < n; ++i) out[i] = p[i];
    return Array::fromI32(std::move(shape), std::move(out));
  }
  for (size_t i = 0; i < n; ++i) {
    Value v = load(p + i * size, kind, bigEndian);
    if (v.isInt) {
      if (v.bigUnsigned || v.i < INT32_MIN || v.i > INT32_MAX) return bad(i, v, "does not fit in i32");
      out[i] = int32_t(v.i);
    } else {
      if (!std::isfinite(v.d) || std::nearbyint(v.d) != v.d) return bad(i, v, "is not an integer, as i32 data requires");
      if (v.d < double(INT32_MIN) || v.d > double(INT32_MAX)) return bad(i, v, "does not fit in i32");
      out[i] = int32_t(v.d);
    }
  }
  return Array::fromI32(std::move(shape), std::move(out));
}

}  // namespace nnc::data
