#pragma once
// NumPy's .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a version (1.0, 2.0 or
// 3.0), a header length (2 bytes in 1.0, 4 bytes after), a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (n, ...), } and the raw elements.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/Array.h"

namespace nnc::data {

// Loads a .npy file (gzip-compressed also accepted). Dtypes: float16/32/64 ('<f2' '<f4'
// '<f8') become f32; int8/16/32/64, uint8/16/32/64 and bool ('|i1' '<i2' '<i4' '<i8' '|u1'
// '<u2' '<u4' '<u8' '|b1') become i32, with an error naming the element when a value does not
// fit. Big-endian ('>') data is accepted. Refused, with a message saying why and what to do:
// object arrays ('|O', pickled Python objects: never unpickled), Fortran order, structured,
// string, complex and datetime dtypes, and files whose size disagrees with the header.
Result<Array> loadNpy(const std::string& path);

// The bytes of a version 1.0 .npy file ('<f4' or '<i4', C order) holding `a` (version 2.0
// when the header would not fit in 1.0's 64 KiB).
std::vector<uint8_t> encodeNpy(const Array& a);

// Writes `a` to `path` atomically (temporary file + fsync + rename): a failure leaves any
// previous file untouched. Used by `nnc predict --out FILE.npy`.
Result<void> saveNpy(const std::string& path, const Array& a);

}  // namespace nnc::data
