#pragma once
// Runs a function on a thread whose stack is as large as asked. The front end recurses once
// per level of nesting in a model file (the parser most deeply: up to ~16 KiB a level, and
// several times that in sanitizer builds), so `nnc` runs its commands on a stack sized from
// --max-nesting: raising the limit can never turn a deep model into a stack overflow.
#include <cstddef>
#include <functional>

namespace nnc::driver {

// Stack bytes for a nesting limit: a fixed base plus a generous allowance per level. Only
// the pages actually touched are committed, so a large reservation costs nothing.
size_t stackBytesForNesting(size_t maxNesting);

// Calls fn() on a new thread with `stackBytes` of stack and waits for it; an exception fn()
// throws is rethrown here. If no such thread can be made, calls fn() directly.
int runWithStack(size_t stackBytes, const std::function<int()>& fn);

}  // namespace nnc::driver
