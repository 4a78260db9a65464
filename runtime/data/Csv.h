#pragma once
// CSV data (`--data csv:FILE`).
//
// Semantics (for the user documentation):
//  - The first non-blank row is a header naming, for each column, the model input the
//    column belongs to. A name is written `x`, or indexed `x[3]` or `x.3`; a name is an
//    identifier (letters, digits, `_`, not starting with a digit).
//  - All columns naming the same input are gathered, in column order, into that input's
//    per-sample feature vector: `x,x,x,label` and `x[0],x[1],x[2],label` both give
//    x: f32[n, 3] and label: i32[n]. Columns of one input may be interleaved with others'.
//    The shape is [n, k] even for k = 1; binding reshapes it to the input's declared shape
//    when the element counts match (e.g. 784 `pixel` columns into f32[batch, 28, 28]).
//  - Indices are checks, not positions: an input's columns are either all plain or all
//    indexed, and indices must increase from column to column (a typo such as x[1],x[1] or
//    x[2],x[1] is an error rather than a silent reordering). They need not start at 0.
//  - The last column is the label, a single value per sample, and its name is used by no
//    other column. For prediction, which needs no label, a last column that names one of
//    the inputs the caller reads as features (CsvOptions::featureInputs) is a feature column
//    like the others, and the file has no label column: `x,x,x` loads x alone. Its values must be integers (class ids) fitting in i32 ("3" or "3.0");
//    they give an i32[n] array. When the model declares that input as f32 (a regression
//    target), it is read as f32[n] instead (CsvOptions::realValuedInputs).
//  - Every other field is a finite number (decimal or scientific notation, optional sign)
//    and becomes f32. Empty fields, `nan` and `inf` are errors.
//  - Fields are separated by commas; spaces around a field are ignored. A field may be
//    enclosed in double quotes ("1.5", or "a ""quoted"" name" in the header); a quoted
//    field may contain commas but not line breaks.
//  - Line endings may be LF or CRLF; blank lines (anywhere) are skipped; a UTF-8 byte order
//    mark is ignored. The file may be gzip-compressed.
//  - Every data row has exactly as many fields as the header. At least one data row.
//  Errors are reported as FILE:LINE:COLUMN: message (1-based, column in bytes).
#include <string>
#include <string_view>
#include <vector>

#include "runtime/data/Dataset.h"

namespace nnc::data {

struct CsvOptions {
  // Names of the model's f32 inputs: when the label column names one of them, its values
  // are read as f32 (any finite number) instead of i32 class ids.
  std::vector<std::string> realValuedInputs;
  // Inputs the caller reads as features (predict): when the last column names one of them,
  // the file has no label column; otherwise the label column is read as f32, unchecked.
  std::vector<std::string> featureInputs;
};

// Loads FILE as described above; description is "csv:FILE".
Result<Dataset> loadCsv(const std::string& path, const CsvOptions& options = {});

// The same from text in memory; `path` is only used in messages.
Result<Dataset> parseCsv(std::string_view text, const std::string& path, const CsvOptions& options = {});

// Writes `a` (one row per sample) as CSV in the format above, without a label column: a
// header naming every column `name` (one value per sample) or `name[i]` (the sample's
// elements in row-major order), then f32 values that read back exactly (%.9g) or i32
// integers. Written atomically, as predict's .npy files are.
Result<void> saveCsv(const std::string& path, const Array& a, const std::string& name);

}  // namespace nnc::data
