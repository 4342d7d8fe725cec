#pragma once
// A fixed-bucket histogram in the shape Prometheus exposes (cumulative `le` buckets, sum,
// count), for latencies and batch sizes. Bucket bounds are fixed at construction so that
// observing is a short search and no allocation.

#include <cstdint>
#include <vector>

namespace vigil::net {

class Histogram {
 public:
  // REQUIRES: bounds strictly increasing. The default: latency seconds from 50µs to 10s.
  explicit Histogram(std::vector<double> bounds = latency_bounds());

  void observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // counts()[i]: observations <= bounds()[i] and > bounds()[i-1]; the last entry counts
  // those above every bound (+Inf bucket, not cumulative).
  const std::vector<std::uint64_t>& counts() const { return counts_; }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1); 0 when empty.
  double quantile_upper_bound(double q) const;

  static std::vector<double> latency_bounds();
  static std::vector<double> size_bounds();  // 1, 2, 4, ... 4096

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace vigil::net
