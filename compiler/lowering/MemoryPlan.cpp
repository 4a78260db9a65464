#include "compiler/lowering/MemoryPlan.h"

#include <algorithm>
#include <numeric>

namespace nnc {

namespace {

constexpr int64_t kAlign = 64;
int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

struct Item {
  size_t request;
  int64_t size;
  int first, last;
};

bool overlaps(const Item& a, const Item& b) { return a.first <= b.last && b.first <= a.last; }

// First fit of items in the given order; returns the region size and fills offsets.
int64_t placeInOrder(const std::vector<Item>& items, const std::vector<size_t>& order, std::vector<int64_t>& offsets) {
  struct Placed {
    int64_t begin, end;
    const Item* item;
  };
  std::vector<Placed> placed;
  int64_t total = 0;
  offsets.assign(items.size(), 0);
  for (size_t idx : order) {
    const Item& it = items[idx];
    // Intervals of already placed buffers that are alive at the same time, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (const Placed& p : placed)
      if (overlaps(*p.item, it)) busy.push_back({p.begin, p.end});
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (const auto& [b, e] : busy) {
      if (at + it.size <= b) break;
      at = std::max(at, e);
    }
    offsets[idx] = at;
    placed.push_back({at, at + it.size, &it});
    total = std::max(total, at + it.size);
  }
  return total;
}

// The best of a few orderings.
int64_t placeBest(const std::vector<Item>& items, std::vector<int64_t>& offsets) {
  std::vector<size_t> bySize(items.size());
  std::iota(bySize.begin(), bySize.end(), size_t(0));
  std::stable_sort(bySize.begin(), bySize.end(), [&](size_t a, size_t b) {
    if (items[a].size != items[b].size) return items[a].size > items[b].size;
    return items[a].first < items[b].first;
  });
  std::vector<size_t> byFirst(items.size());
  std::iota(byFirst.begin(), byFirst.end(), size_t(0));
  std::stable_sort(byFirst.begin(), byFirst.end(), [&](size_t a, size_t b) { return items[a].first < items[b].first; });
  std::vector<size_t> byLifetime(items.size());
  std::iota(byLifetime.begin(), byLifetime.end(), size_t(0));
  std::stable_sort(byLifetime.begin(), byLifetime.end(), [&](size_t a, size_t b) {
    int64_t la = items[a].size * (items[a].last - items[a].first + 1);
    int64_t lb = items[b].size * (items[b].last - items[b].first + 1);
    return la > lb;
  });

  int64_t best = -1;
  std::vector<int64_t> trial;
  for (const auto* order : {&bySize, &byFirst, &byLifetime}) {
    int64_t total = placeInOrder(items, *order, trial);
    if (best < 0 || total < best) {
      best = total;
      offsets = trial;
    }
  }
  return std::max<int64_t>(best, 0);
}

}  // namespace

MemoryPlan planMemory(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  plan.placements.resize(requests.size());
  std::vector<Item> fixed, batched;
  for (size_t i = 0; i < requests.size(); ++i) {
    const BufferRequest& r = requests[i];
    if (r.bytesPerBatch > 0) {
      batched.push_back({i, alignUp(r.bytesPerBatch), r.first, r.last});
      plan.naiveBytesPerBatch += alignUp(r.bytesPerBatch);
    } else {
      fixed.push_back({i, alignUp(std::max<int64_t>(r.bytes, 1)), r.first, r.last});
      plan.naiveFixedBytes += alignUp(std::max<int64_t>(r.bytes, 1));
    }
  }
  std::vector<int64_t> offsets;
  plan.fixedBytes = placeBest(fixed, offsets);
  for (size_t i = 0; i < fixed.size(); ++i) plan.placements[fixed[i].request] = {0, offsets[i]};
  plan.bytesPerBatch = placeBest(batched, offsets);
  for (size_t i = 0; i < batched.size(); ++i) plan.placements[batched[i].request] = {offsets[i], plan.fixedBytes};
  return plan;
}

}  // namespace nnc
