#pragma once
// Errors are values through the compiler: a Result<T> holds either a T or an Error with a
// message and, when it comes from the model, the source position it refers to. The driver
// turns Errors into `FILE:LINE:COL: error: ...` diagnostics.
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "support/SourceLoc.h"

namespace nnc {

struct Error {
  std::string message;
  SourceLoc loc;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error err) : v_(std::move(err)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error err) : err_(std::move(err)) {}
  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *err_; }

 private:
  std::optional<Error> err_;
};

inline Error makeError(std::string message, SourceLoc loc = {}) { return Error{std::move(message), loc}; }

}  // namespace nnc

// Propagates an error from an expression yielding a Result; otherwise evaluates to nothing.
#define NNC_TRY(expr)                                  \
  do {                                                 \
    auto nnc_try_result_ = (expr);                     \
    if (!nnc_try_result_.ok()) return nnc_try_result_.error(); \
  } while (0)
