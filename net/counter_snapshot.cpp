// A flat list rather than a map: the order is the declaration's, and a snapshot is read a
// handful of times per scrape, so a linear get() is cheaper than building an index.

#include "net/counter_snapshot.h"

#include <utility>

#include "core/assert.h"

namespace vigil::net {

CounterSnapshot CounterSnapshot::of(const core::NodeCounters& node) {
  CounterSnapshot snapshot;
  snapshot.samples.reserve(core::counter_count + 20);
  for (const core::NodeCounters::Entry entry : node) {
    snapshot.samples.push_back(
        Sample{std::string(entry.name), core::counter_meaning(entry.counter), entry.value});
  }
  return snapshot;
}

void CounterSnapshot::add(std::string name, std::string_view meaning, std::uint64_t value) {
  for (const Sample& sample : samples) {
    VIGIL_ASSERT(sample.name != name, "counter " + name + " reported twice");
  }
  samples.push_back(Sample{std::move(name), meaning, value});
}

std::uint64_t CounterSnapshot::get(std::string_view name) const {
  for (const Sample& sample : samples) {
    if (sample.name == name) return sample.value;
  }
  return 0;
}

}  // namespace vigil::net
